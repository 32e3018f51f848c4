/**
 * Where a follower of a project feed is: the feed's last change it saw, and
 * for each run it follows on the same stream, that run's last event. It is
 * the `id:` of every frame of the feed, so `Last-Event-ID` resumes all of it.
 * Written `12` (no run followed) or `12,<runId>:5,<runId>:3`.
 *
 * @example
 * ```ts
 * import { formatPosition, parsePosition } from "./position.ts";
 * const id = formatPosition(12, new Map([["r1", 5]]));
 * console.log(id); // 12,r1:5
 * console.log(parsePosition(id)?.runs.get("r1")); // 5
 * ```
 *
 * @module
 */

/** A follower's place in a project feed and its runs. */
export interface FeedPosition {
  /** The last change of the feed seen. */
  seq: number;
  /** The last event seen of each run followed. */
  runs: Map<string, number>;
}

/** At most this many runs in one position (a project's runs at once are capped far below). */
const MAX_RUNS = 64;
const RUN = /^([0-9a-z]{1,64}):(\d{1,15})$/;

/**
 * The `id:` of a frame for a feed position.
 *
 * @example
 * ```ts
 * import { formatPosition } from "./position.ts";
 * console.log(formatPosition(3, new Map())); // 3
 * ```
 */
export function formatPosition(seq: number, runs: Iterable<[string, number]>): string {
  let id = String(seq);
  for (const [runId, at] of runs) id += `,${runId}:${at}`;
  return id;
}

/**
 * Reads a position from a `Last-Event-ID`, or null when it is not one.
 *
 * @example
 * ```ts
 * import { parsePosition } from "./position.ts";
 * console.log(parsePosition("7")?.seq, parsePosition("x")); // 7 null
 * ```
 */
export function parsePosition(id: string): FeedPosition | null {
  const [head, ...rest] = id.split(",");
  if (!head || !/^\d{1,15}$/.test(head) || rest.length > MAX_RUNS) return null;
  const runs = new Map<string, number>();
  for (const part of rest) {
    const match = RUN.exec(part);
    if (!match) return null;
    runs.set(match[1]!, Number(match[2]));
  }
  return { seq: Number(head), runs };
}
