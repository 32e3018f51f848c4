/**
 * The one way to follow a {@linkcode RunFeed}: a cursor that hands out what
 * comes after it — events, a keep-alive when one is due, or the end — until
 * the terminal event, a closed feed, a shutdown or an abort. The native
 * event stream, the AG-UI stream, in-process followers and waiters all map
 * from it.
 *
 * A cursor holds a position, never a buffer: events come from the feed's
 * memory (with their frames already encoded, shared by every follower) or,
 * once they left memory, from the KV log in bounded batches. Keep-alives
 * come from one timer per cursor, armed only while it waits and never reset
 * per event, so an idle follower wakes once per heartbeat and a busy one
 * not at all.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { FeedCursor } from "./cursor.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "token", runId: "r1", seq: 1, ts: 0, delta: "hi" });
 * feed.push({ type: "cancelled", runId: "r1", seq: 2, ts: 0, cancelled: { message: "Stopped.", step: null } });
 * const cursor = new FeedCursor(feed, { after: 0 });
 * console.log((await cursor.next()).kind, (await cursor.next()).kind); // events end
 * cursor.close();
 * ```
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { FeedGapError, type RunFeed } from "./feed.ts";

/** Why a cursor has nothing more to give. */
export type EndReason = "terminal" | "closed" | "shutdown" | "aborted";

/** What {@linkcode FeedCursor.next} hands out. */
export type FeedStep =
  /** The next events, in order; `frames` are their encoded frames when they came from memory. */
  | { kind: "events"; events: RunEvent[]; frames: Uint8Array[] | null }
  /** Nothing happened for a heartbeat: send a keep-alive. */
  | { kind: "keep-alive" }
  /** Nothing more: the run ended, the feed closed, the server is shutting down, or the follower left. */
  | { kind: "end"; reason: EndReason };

/** Options of a {@linkcode FeedCursor}. */
export interface CursorOptions {
  /** Hand out events with a seq above this. */
  after: number;
  /** When set, a keep-alive is due after this much silence (ms). */
  heartbeatMs?: number;
  /** When it aborts, the cursor ends with `shutdown` (at once, even while waiting). */
  shutdown?: AbortSignal;
  /** When it aborts, the cursor ends with `aborted` (at once, even while waiting). */
  signal?: AbortSignal;
}

const END = {
  terminal: { kind: "end", reason: "terminal" },
  closed: { kind: "end", reason: "closed" },
  shutdown: { kind: "end", reason: "shutdown" },
  aborted: { kind: "end", reason: "aborted" },
} as const satisfies Record<EndReason, FeedStep>;
const KEEP_ALIVE_STEP: FeedStep = { kind: "keep-alive" };

/** A follower's position in a feed. See the module docs. */
export class FeedCursor {
  #feed: RunFeed;
  #position: number;
  #heartbeatMs: number | undefined;
  #shutdown: AbortSignal | undefined;
  #signal: AbortSignal | undefined;
  #lastSent = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves the wait in progress; null when not waiting. */
  #resolve: (() => void) | null = null;
  #due = false;
  #closed = false;
  /** Ends a wait: one function per cursor, handed to the feed at each wait. */
  #wake = () => {
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  };
  #onAbort = () => this.#stopWaiting();

  /** Attaches a follower to `feed` after `options.after`. */
  constructor(feed: RunFeed, options: CursorOptions) {
    this.#feed = feed;
    this.#position = options.after;
    this.#heartbeatMs = options.heartbeatMs;
    this.#shutdown = options.shutdown;
    this.#signal = options.signal;
    this.#shutdown?.addEventListener("abort", this.#onAbort);
    this.#signal?.addEventListener("abort", this.#onAbort);
    feed.attach(this);
  }

  /** The seq of the last event handed out. */
  get position(): number {
    return this.#position;
  }

  /** Whether {@linkcode FeedCursor.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The next step: events after the position (one bounded batch), a
   * keep-alive that is due, or the end. Throws a {@linkcode FeedGapError}
   * when the events right after the position are lost.
   */
  async next(): Promise<FeedStep> {
    const feed = this.#feed;
    while (!this.#closed) {
      const now = this.poll();
      if (now) return now;
      if (feed.behind(this.#position)) {
        const events = await feed.catchUp(this.#position);
        if (this.#closed) break;
        return this.#handOut(events, null);
      }
      if (await this.#wait()) return KEEP_ALIVE_STEP;
    }
    return END.aborted;
  }

  /**
   * The next step when it is at hand without waiting (events in memory, or
   * the end), else null: {@linkcode FeedCursor.next} without a promise, for
   * the hot path of a follower that keeps up. Throws a
   * {@linkcode FeedGapError} like `next`.
   */
  poll(): FeedStep | null {
    if (this.#closed) return END.aborted;
    if (this.#shutdown?.aborted) return END.shutdown;
    if (this.#signal?.aborted) return END.aborted;
    const feed = this.#feed;
    if (feed.behind(this.#position)) return null;
    if (this.#position < feed.lastSeq) {
      const events = feed.after(this.#position);
      // Gone from memory with no log to read them from.
      if (events.length === 0) throw new FeedGapError(feed.runId, this.#position);
      return this.#handOut(events, feed.framesAfter(this.#position));
    }
    if (feed.done) return feed.ended ? END.terminal : END.closed;
    return null;
  }

  /**
   * The next event's frame when it is the one event in memory past the
   * position (a follower that keeps up, woken by a push), else null: then
   * {@linkcode FeedCursor.poll}. The hot path of the event stream, without
   * the arrays of a step. After the terminal event, `position` is the feed's
   * `lastSeq` and the feed has `ended`.
   */
  pollFrame(): Uint8Array | null {
    const feed = this.#feed;
    const index = this.#position - feed.base;
    if (this.#position + 1 !== feed.lastSeq || index < 0 || this.#closed) return null;
    if (this.#shutdown?.aborted || this.#signal?.aborted) return null;
    this.#position = feed.lastSeq;
    this.#lastSent = feed.events[index]!.ts - performance.timeOrigin;
    return feed.frames[index]!;
  }

  /** Detaches from the feed and frees the timer; false when already closed. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#disarm();
    this.#stopWaiting();
    this.#shutdown?.removeEventListener("abort", this.#onAbort);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#feed.detach(this);
    return true;
  }

  #handOut(events: RunEvent[], frames: Uint8Array[] | null): FeedStep {
    const last = events[events.length - 1]!;
    this.#position = last.seq;
    // Events from memory go out as they are stamped: their `ts` stands for the time sent, without a clock
    // read per event. Events from the log are old: now.
    this.#lastSent = frames ? last.ts - performance.timeOrigin : performance.now();
    return { kind: "events", events, frames };
  }

  /** Waits for the feed's next push or close, an abort, or a due keep-alive (then true). */
  async #wait(): Promise<boolean> {
    await new Promise<void>((resolve) => this.notify(resolve));
    return !this.#closed && this.takeKeepAlive();
  }

  /**
   * Calls `ready` once, synchronously, at the feed's next push or close, an
   * abort, a close of the cursor, or when a keep-alive falls due: the
   * callback form of waiting, for a stream that pulls (no promise per
   * event). Then call {@linkcode FeedCursor.takeKeepAlive} and
   * {@linkcode FeedCursor.poll}.
   */
  notify(ready: () => void): void {
    this.#resolve = ready;
    this.#feed.listen(this.#wake);
    this.#arm();
  }

  /** Whether a keep-alive fell due (once: it counts as sent). */
  takeKeepAlive(): boolean {
    if (!this.#due) return false;
    this.#due = false;
    this.#lastSent = performance.now();
    return true;
  }

  /** Ends the wait in progress, if any (an abort, a close, a due keep-alive). */
  #stopWaiting(): void {
    if (this.#resolve === null) return;
    this.#feed.unlisten(this.#wake);
    this.#wake();
  }

  #arm(): void {
    if (this.#heartbeatMs === undefined || this.#timer !== undefined || this.#closed) return;
    // Clamped: a `ts` from another instance's clock never delays a keep-alive past one heartbeat.
    const delay = Math.max(
      0,
      Math.min(this.#heartbeatMs, this.#lastSent + this.#heartbeatMs - performance.now()),
    );
    this.#timer = setTimeout(() => this.#onTimer(), delay);
    this.#feed.counts.timers++;
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#feed.counts.timers--;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#feed.counts.timers--;
    if (this.#closed || this.#resolve === null) return;
    const now = performance.now();
    if (this.#lastSent > now) this.#lastSent = now; // a `ts` ahead of this clock
    if (now - this.#lastSent >= this.#heartbeatMs!) {
      this.#due = true;
      this.#stopWaiting();
    } else this.#arm();
  }
}

/**
 * The feed's events after `after`, as an async iterable that ends after the
 * terminal event, when the feed closes, or when `signal` aborts: for
 * in-process followers.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { followEvents } from "./cursor.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "token", runId: "r1", seq: 1, ts: 0, delta: "a" });
 * feed.push({ type: "error", runId: "r1", seq: 2, ts: 0, error: { code: "x", message: "y", step: null } });
 * for await (const event of followEvents(feed, 0)) console.log(event.seq); // 1, then 2
 * ```
 */
export async function* followEvents(
  feed: RunFeed,
  after: number,
  signal?: AbortSignal,
): AsyncGenerator<RunEvent, void, void> {
  const cursor = new FeedCursor(feed, { after, signal });
  try {
    while (true) {
      const step = await cursor.next();
      if (step.kind === "end") return;
      if (step.kind === "events") yield* step.events;
    }
  } finally {
    cursor.close();
  }
}
