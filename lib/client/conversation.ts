/**
 * The island's conversation as plain data: how a message from the feed joins
 * it, and the words for a connection's state. Pure, so it is tested alone.
 *
 * @module
 */

import type { Message } from "../protocol.ts";
import type { ConnectionState } from "./feed_follower.ts";

/** The id prefix of a page's own copy of a message while it is being sent. */
export const LOCAL_ID = "local-";

/**
 * The conversation with `message` in its place, once: a user's message takes
 * the place of the page's own copy shown while it was being sent (same run,
 * or same text before the run was known). Messages stay in the order of
 * their ids (time), the page's own copies last. The same list when the
 * message is already there.
 *
 * @example
 * ```ts
 * import { withMessage } from "./conversation.ts";
 * const at = "2026-01-01T00:00:00Z";
 * const mine = { id: "local-1", role: "user" as const, content: "hi", runId: null, createdAt: at };
 * const real = { id: "0a", role: "user" as const, content: "hi", runId: "r1", createdAt: at };
 * console.log(withMessage([mine], real).map((m) => m.id)); // [ "0a" ]
 * ```
 */
export function withMessage(list: Message[], message: Message): Message[] {
  if (list.some((m) => m.id === message.id)) return list;
  if (message.role === "user") {
    const mine = localCopyIndex(list, message.runId, message.content);
    if (mine >= 0) list = list.filter((_, i) => i !== mine);
  }
  const key = (m: Message) => (m.id.startsWith(LOCAL_ID) ? "~" : "") + m.id;
  return [...list, message].sort((a, b) => key(a) < key(b) ? -1 : 1);
}

/**
 * Where the page's own copy of a user's message is (-1: none): the copy of
 * that run, or one with that text whose run is not known yet.
 *
 * @example
 * ```ts
 * import { localCopyIndex } from "./conversation.ts";
 * const mine = { id: "local-1", role: "user" as const, content: "hi", runId: null, createdAt: "" };
 * console.log(localCopyIndex([mine], "r1", "hi"), localCopyIndex([mine], "r1", "yo")); // 0 -1
 * ```
 */
export function localCopyIndex(list: Message[], runId: string | null, content: string): number {
  return list.findIndex((m) =>
    m.id.startsWith(LOCAL_ID) && (m.runId === runId || (m.runId === null && m.content === content))
  );
}

/**
 * The words for the connection of a live run.
 *
 * @example
 * ```ts
 * import { connectionWords } from "./conversation.ts";
 * console.log(connectionWords("reconnecting", true)); // The server restarted; catching up
 * ```
 */
export function connectionWords(state: ConnectionState, restarted: boolean): string {
  if (state === "offline") {
    return typeof navigator !== "undefined" && navigator.onLine === false
      ? "You are offline; waiting for the network"
      : "The server cannot be reached; retrying";
  }
  if (state === "reconnecting") return restarted ? "The server restarted; catching up" : "Reconnecting…";
  if (state === "connecting") return "Connecting…";
  if (state === "fallback") return "No live updates here; the answer shows when it is ready";
  return "Live";
}
