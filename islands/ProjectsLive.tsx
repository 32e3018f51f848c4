import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ProjectList, type ProjectRow } from "../components/ProjectList.tsx";
import { FeedFollower } from "../lib/client/feed_follower.ts";
import { urls } from "../lib/urls.ts";
import { parseFeedMessage } from "../lib/wire_schema.ts";

/** What the server hands the list island (and renders with it). */
export interface ProjectsLiveProps {
  rows: ProjectRow[];
  /** The server's clock when it rendered the page. */
  now: number;
  /** The search the list shows, if any. */
  query: string;
  /** The list feed's position when the page was rendered. */
  position: string;
}

/**
 * The project list, kept live by the list's feed: projects created, renamed
 * or deleted anywhere show here at once. Without JavaScript it is the same
 * list, complete on each load.
 */
export default function ProjectsLive(props: ProjectsLiveProps) {
  const rows = useSignal(props.rows);
  const live = useSignal(false);

  useEffect(() => {
    const matches = (name: string) => !props.query || name.toLowerCase().includes(props.query.toLowerCase());
    const follower = new FeedFollower(urls.events(), "/api/projects", {
      onMessage(data) {
        const change = parseFeedMessage(data);
        if (!change || !change.type.includes(".")) return;
        if (change.type === "project.created" && matches(change.project.name)) {
          if (rows.value.some((r) => r.project.id === change.project.id)) return;
          rows.value = [{ project: change.project, last: null }, ...rows.value];
        } else if (change.type === "project.renamed") {
          rows.value = rows.value.map((r) =>
            r.project.id === change.project.id ? { ...r, project: change.project } : r
          );
        } else if (change.type === "project.deleted") {
          rows.value = rows.value.filter((r) => r.project.id !== change.projectId);
        } else if (change.type === "feed.reset") {
          location.reload();
        }
      },
      onState: (state) => live.value = state === "live",
      onBlocked: () => {},
      onEnded: () => {},
    });
    follower.start(props.position);
    return () => follower.stop();
  }, []);

  return (
    <div data-projects-live={live.value ? "live" : "idle"}>
      <ProjectList rows={rows.value} now={props.now} query={props.query} />
    </div>
  );
}
