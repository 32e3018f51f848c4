/**
 * The island's view of a project, kept live by the project's feed: one event
 * stream per page that brings what any tab or device does there (runs that
 * start, their events, answers, memories, a rename or a delete). Runs are
 * folded into one timeline each as their events arrive; changes are handed
 * to the view. A Preact hook; the view only reads its signals.
 *
 * @module
 */

import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { FeedEvent, RunEvent, RunRecord, RunStarted } from "../protocol.ts";
import { endingOfRecord, isTerminal, type TerminalEvent } from "../runs/outcome.ts";
import { applyEvent, emptyTimeline, type Timeline } from "../timeline.ts";
import { urls } from "../urls.ts";
import { infoOfTimeline, type RunInfo } from "../exchanges.ts";
import { parseFeedMessage } from "../wire_schema.ts";
import { api, ApiError, pause } from "./api.ts";
import { type ConnectionState, FeedFollower } from "./feed_follower.ts";

/** A change of the project's feed, other than a run's own events. */
export type ProjectChange = Exclude<FeedEvent, { type: "feed.reset" }>;

/** What {@linkcode useProjectFeed} starts from and reports to. */
export interface ProjectFeedOptions {
  projectId: string;
  /** The instance that rendered the page: another one answering later means a restart. */
  instance: string;
  /** The feed's position when the page was rendered (changes after it are replayed). */
  position: string;
  /** The timelines the server rendered. */
  timelines: Record<string, Timeline>;
  /** What the records say of every run in the conversation. */
  infos: Record<string, RunInfo>;
  /** An event changed a run's timeline. */
  onChange(event: RunEvent): void;
  /** A run ended. */
  onEnd(event: TerminalEvent): void;
  /** A change in the project (a message, a memory, a rename, a delete, a run that started). */
  onProjectChange(change: ProjectChange): void;
  /** The server answered: notices about the network are over. */
  onReachable(): void;
}

/** The signals and actions {@linkcode useProjectFeed} gives the view. */
export interface ProjectFeed {
  timelines: Signal<Record<string, Timeline>>;
  infos: Signal<Record<string, RunInfo>>;
  connection: Signal<ConnectionState>;
  /** Another instance answered than the one that rendered the page. */
  restarted: Signal<boolean>;
  /** Now on the server's clock, as far as the events tell it. */
  serverNow(): number;
  /** Shows a run this page started (an empty timeline until its events come). */
  started(run: RunStarted): void;
  /** Applies one event (also the island's own, such as a lost run). */
  apply(event: RunEvent): void;
}

/**
 * Follows one project page's feed. See the module docs.
 *
 * @example
 * ```ts ignore
 * const feed = useProjectFeed({ projectId, instance, position, timelines, infos, onChange, onEnd, onProjectChange, onReachable });
 * feed.started(run);
 * ```
 */
export function useProjectFeed(options: ProjectFeedOptions): ProjectFeed {
  const { projectId } = options;
  const timelines = useSignal(options.timelines);
  const infos = useSignal(options.infos);
  const connection = useSignal<ConnectionState>("connecting");
  const restarted = useSignal(false);
  const follower = useRef<FeedFollower | null>(null);
  /** Browser clock minus server clock, at most: the smallest (receipt − ts) seen. */
  const clockOffset = useRef(Number.POSITIVE_INFINITY);
  // The latest callbacks, so the follower started earlier calls the view of now.
  const handlers = useRef(options);
  handlers.current = options;

  const serverNow = () => Date.now() - (Number.isFinite(clockOffset.current) ? clockOffset.current : 0);

  function apply(event: RunEvent) {
    clockOffset.current = Math.min(clockOffset.current, Date.now() - event.ts);
    const before = timelines.value[event.runId] ?? emptyTimeline(event.runId);
    // A replay after a reconnect may overlap what we have: applyEvent leaves the timeline as it is then.
    const after = applyEvent(before, event);
    if (after === before) return;
    timelines.value = { ...timelines.value, [event.runId]: after };
    handlers.current.onChange(event);
    if (!isTerminal(event)) return;
    // The folded line of this exchange, once it is no longer the latest.
    infos.value = { ...infos.value, [event.runId]: infoOfTimeline(after) };
    handlers.current.onEnd(event as TerminalEvent);
  }

  function show(runId: string) {
    if (!timelines.value[runId]) timelines.value = { ...timelines.value, [runId]: emptyTimeline(runId) };
  }

  /** A run ended without its terminal event reaching us: its record says how. */
  async function settle(runId: string) {
    const url = urls.run(projectId, runId);
    for (let attempt = 0; attempt < 60; attempt++) {
      const asked = Date.now();
      try {
        const record = await api<RunRecord>(`${url}?wait=25`);
        if (record.status !== "running") {
          apply(endingOfRecord(record, timelines.value[runId]?.lastSeq ?? 0));
          return;
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) break;
      }
      // A server without long polling answers at once: do not hammer it.
      if (Date.now() - asked < 1000) await pause(1000);
    }
    apply({
      type: "error",
      runId,
      seq: (timelines.value[runId]?.lastSeq ?? 0) + 1,
      ts: serverNow(),
      error: {
        code: "lost",
        message: "Lost track of this run. Reload the page to see where it stands.",
        step: null,
      },
    });
  }

  function onMessage(data: string) {
    // Checked, not cast: a payload that is neither a change nor an event is dropped.
    const message = parseFeedMessage(data);
    if (!message) return;
    if (!message.type.includes(".")) return apply(message as RunEvent);
    const change = message as FeedEvent;
    clockOffset.current = Math.min(clockOffset.current, Date.now() - change.ts);
    if (change.type === "feed.reset") {
      // Too far behind to replay: the page, rendered again, is the truth.
      follower.current?.stop();
      location.reload();
      return;
    }
    if (change.type === "run.started") show(change.run.runId);
    if (change.type === "run.ended" && timelines.value[change.runId]?.outcome === "running") {
      settle(change.runId);
    }
    if (change.type === "project.deleted") {
      follower.current?.stop();
      connection.value = "idle";
    }
    handlers.current.onProjectChange(change);
  }

  useEffect(() => {
    const f = new FeedFollower(urls.projectEvents(projectId), urls.project(projectId), {
      onMessage,
      onState: (state) => {
        connection.value = state;
        if (state === "live") handlers.current.onReachable();
      },
      onServer: (instance) => restarted.value = instance !== handlers.current.instance,
      onBlocked: () => {
        // No live updates here: runs still going end when their records say so.
        for (const [runId, t] of Object.entries(timelines.value)) if (t.outcome === "running") settle(runId);
      },
      onEnded: () => handlers.current.onProjectChange({ type: "project.deleted", projectId, seq: 0, ts: 0 }),
    });
    follower.current = f;
    f.start(options.position);
    return () => f.stop();
  }, []);

  return {
    timelines,
    infos,
    connection,
    restarted,
    serverNow,
    apply,
    started(run) {
      show(run.runId);
      // Without live updates, the run's record tells how it ended.
      if (connection.value === "fallback") settle(run.runId);
    },
  };
}
