/**
 * The waiting half of a follower stream: it waits on a {@linkcode RunFeed}
 * for the next event, and says when a keep-alive is due. One timer per
 * stream, armed only while the stream waits and never reset per event, so an
 * idle stream wakes once per heartbeat and a busy one not at all.
 *
 * @module
 */

import { encodeServerSentEvent } from "../sse.ts";
import type { RunFeed } from "./feed.ts";

/** The keep-alive comment frame. */
export const KEEP_ALIVE: Uint8Array<ArrayBuffer> = new TextEncoder().encode(
  encodeServerSentEvent({ comment: "keep-alive" }),
);

/** Counts of what followers hold open, for tests and stats. */
export const followerStats = { streams: 0, timers: 0 };

/**
 * Waits on a feed for one follower stream.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { FeedWaiter } from "./feed_waiter.ts";
 * const feed = new RunFeed("r1", "p1");
 * const waiter = new FeedWaiter(feed, 10);
 * console.log(await waiter.wait()); // true: nothing happened for 10 ms, a keep-alive is due
 * waiter.close();
 * ```
 */
export class FeedWaiter {
  #feed: RunFeed;
  #heartbeatMs: number;
  #lastSent = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiting: { cancel: () => void } | null = null;
  #due = false;
  #closed = false;

  /** Attaches a follower to `feed`, with a keep-alive after `heartbeatMs` of silence. */
  constructor(feed: RunFeed, heartbeatMs: number) {
    this.#feed = feed;
    this.#heartbeatMs = heartbeatMs;
    feed.followers++;
    followerStats.streams++;
  }

  /** Whether {@linkcode FeedWaiter.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Notes that the stream just sent something. */
  sent(): void {
    this.#lastSent = performance.now();
  }

  /**
   * Resolves at the feed's next push or close, on {@linkcode FeedWaiter.interrupt},
   * or when a keep-alive is due: then it resolves `true` and the caller sends one.
   */
  async wait(): Promise<boolean> {
    const wait = this.#feed.wait();
    this.#waiting = wait;
    this.#arm();
    await wait.promise;
    this.#waiting = null;
    if (this.#due && !this.#closed) {
      this.#due = false;
      return true;
    }
    return false;
  }

  /** Ends the current wait at once (a shutdown, say). */
  interrupt(): void {
    this.#waiting?.cancel();
  }

  /** Detaches from the feed and frees the timer; false when already closed. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      followerStats.timers--;
    }
    this.#waiting?.cancel();
    this.#waiting = null;
    this.#feed.followers--;
    followerStats.streams--;
    return true;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const delay = Math.max(0, this.#lastSent + this.#heartbeatMs - performance.now());
    this.#timer = setTimeout(() => this.#onTimer(), delay);
    followerStats.timers++;
  }

  #onTimer(): void {
    this.#timer = undefined;
    followerStats.timers--;
    if (this.#closed || !this.#waiting) return;
    if (performance.now() - this.#lastSent >= this.#heartbeatMs) {
      this.#due = true;
      this.#waiting.cancel();
    } else this.#arm();
  }
}
