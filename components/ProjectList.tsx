import type { Message, Project } from "../lib/protocol.ts";

/** A project with what the list shows of it. */
export interface ProjectRow {
  project: Project;
  /** The last message of its conversation, if any. */
  last: Message | null;
}

/** A search box appears once there are more projects than this. */
export const SEARCH_FROM = 6;

/** "2 min ago", "Yesterday", "Mar 3" for an ISO time, relative to `now`. */
export function whenText(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "Just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  if (hours < 48) return "Yesterday";
  const date = new Date(iso);
  const sameYear = date.getUTCFullYear() === new Date(now).getUTCFullYear();
  return date.toLocaleDateString("en", {
    month: "short",
    day: "numeric",
    ...(sameYear ? {} : { year: "numeric" }),
    timeZone: "UTC",
  });
}

/** One line of a message, without Markdown marks. */
function snippet(m: Message): string {
  const text = m.content.replace(/^\s*(?:[-+*]|\d+\.)\s+/gm, "").replace(/[*_`#>|]+/g, "").replace(
    /\s+/g,
    " ",
  )
    .trim();
  return `${m.role === "user" ? "You: " : ""}${text.length > 140 ? `${text.slice(0, 140)}…` : text}`;
}

/**
 * The projects, each with its last activity and a line of its last
 * exchange, and a menu to rename or delete it (plain forms, so they work
 * without JavaScript).
 */
export function ProjectList({ rows, now, query }: { rows: ProjectRow[]; now: number; query: string }) {
  if (rows.length === 0) {
    return (
      <p class="empty">
        {query ? `No project is called anything like "${query}".` : "No projects yet. Create one to start."}
      </p>
    );
  }
  return (
    <ul class="project-list">
      {rows.map(({ project: p, last }) => {
        const when = last?.createdAt ?? p.createdAt;
        return (
          <li key={p.id} class="project-row">
            <a href={`/projects/${p.id}`} class="project-link" data-project={p.id}>
              <span class="project-name">{p.name}</span>
              <span class="project-line">{last ? snippet(last) : "No messages yet"}</span>
            </a>
            <time class="project-when" datetime={when}>{whenText(when, now)}</time>
            <details class="row-menu">
              <summary aria-label={`Rename or delete ${p.name}`}>
                <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
                  <circle cx="3" cy="8" r="1.5" fill="currentColor" />
                  <circle cx="8" cy="8" r="1.5" fill="currentColor" />
                  <circle cx="13" cy="8" r="1.5" fill="currentColor" />
                </svg>
              </summary>
              <div class="menu">
                <form method="post" action={`/projects/${p.id}/rename`} class="rename">
                  <label for={`name-${p.id}`}>Name</label>
                  <input id={`name-${p.id}`} name="name" value={p.name} required maxLength={200} />
                  <button type="submit" class="secondary">Rename</button>
                </form>
                <form method="post" action={`/projects/${p.id}/delete`} class="delete">
                  <button type="submit" class="danger-link" data-delete={p.id}>
                    Delete "{p.name}" and its conversation
                  </button>
                </form>
              </div>
            </details>
          </li>
        );
      })}
    </ul>
  );
}
