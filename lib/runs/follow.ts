/**
 * Followers of a {@linkcode RunFeed}: an event-stream body for HTTP
 * ({@linkcode followFrames}) and an async iterable of events for in-process
 * consumers ({@linkcode followEvents}).
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { isTerminal } from "../protocol.ts";
import { encodeServerSentEvent } from "../sse.ts";
import { encodeFrame, type RunFeed } from "./feed.ts";

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(encodeServerSentEvent({ comment: "keep-alive" }));
const SHUTDOWN = encoder.encode(
  encodeServerSentEvent({ comment: "server shutting down; reconnect to continue" }),
);

/** Counts of what followers hold open, for tests and stats. */
export const followerStats = { streams: 0, timers: 0 };

/** Options of {@linkcode followFrames}. */
export interface FollowOptions {
  /** Send events with a seq above this. */
  after: number;
  /** Send a keep-alive comment after this much silence. */
  heartbeatMs: number;
  /** When set, a `retry:` hint is sent first. */
  retryMs?: number;
  /** When it aborts, a final comment is sent and the stream closes. */
  shutdown?: AbortSignal;
  /** Called once when the stream ends, for any reason. */
  onClose?: () => void;
}

/**
 * An event-stream body that replays the feed after `after`, follows it live,
 * and closes after the terminal event. It pulls: frames are handed over only
 * when the response asks for more, so a slow reader holds a cursor, never a
 * buffer. Keep-alives come from one timer per stream, armed only while the
 * stream waits and never reset per event.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { followFrames } from "./follow.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "error", runId: "r1", seq: 1, ts: 0, error: { code: "x", message: "y", step: null } });
 * const text = await new Response(followFrames(feed, { after: 0, heartbeatMs: 1000 })).text();
 * console.log(text.startsWith("id: 1\n")); // true
 * ```
 */
export function followFrames(feed: RunFeed, options: FollowOptions): ReadableStream<Uint8Array> {
  const { heartbeatMs, shutdown } = options;
  let cursor = options.after;
  let lastSent = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiting: { cancel: () => void } | null = null;
  let heartbeatDue = false;
  let finished = false;

  const cleanup = () => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
      followerStats.timers--;
    }
    waiting?.cancel();
    waiting = null;
    feed.followers--;
    followerStats.streams--;
    shutdown?.removeEventListener("abort", onShutdown);
    options.onClose?.();
  };
  const onTimer = () => {
    timer = undefined;
    followerStats.timers--;
    if (finished || !waiting) return;
    if (performance.now() - lastSent >= heartbeatMs) {
      heartbeatDue = true;
      waiting.cancel();
    } else arm();
  };
  const arm = () => {
    if (timer !== undefined || finished) return;
    const delay = Math.max(0, lastSent + heartbeatMs - performance.now());
    timer = setTimeout(onTimer, delay);
    followerStats.timers++;
  };
  const onShutdown = () => waiting?.cancel();

  feed.followers++;
  followerStats.streams++;
  shutdown?.addEventListener("abort", onShutdown, { once: true });

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.retryMs !== undefined) {
        controller.enqueue(encoder.encode(encodeServerSentEvent({ retry: options.retryMs })));
      }
    },
    async pull(controller) {
      while (!finished) {
        if (shutdown?.aborted) {
          controller.enqueue(SHUTDOWN);
          controller.close();
          cleanup();
          return;
        }
        if (cursor < feed.base && feed.backfill) {
          const missed = await feed.backfill(cursor, feed.base);
          if (finished) return;
          const next = missed.filter((e) => e.seq > cursor);
          if (next.length === 0 || next[0]!.seq !== cursor + 1) {
            controller.error(new Error(`Run ${feed.runId} lost events after seq ${cursor}.`));
            cleanup();
            return;
          }
          for (const event of next) {
            controller.enqueue(encodeFrame(event));
            cursor = event.seq;
          }
          lastSent = performance.now();
          return;
        }
        if (cursor < feed.lastSeq) {
          for (const frame of feed.framesAfter(cursor)) controller.enqueue(frame);
          cursor = feed.lastSeq;
          lastSent = performance.now();
          if (feed.done) {
            controller.close();
            cleanup();
          }
          return;
        }
        if (feed.done) {
          controller.close();
          cleanup();
          return;
        }
        const wait = feed.wait();
        waiting = wait;
        arm();
        await wait.promise;
        waiting = null;
        if (heartbeatDue && !finished) {
          heartbeatDue = false;
          controller.enqueue(KEEP_ALIVE);
          lastSent = performance.now();
          return;
        }
      }
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0 });
}

/**
 * The feed's events after `after` as an async iterable that ends after the
 * terminal event, or when `signal` aborts.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { followEvents } from "./follow.ts";
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
  let cursor = after;
  feed.followers++;
  let waiting: { cancel: () => void } | null = null;
  const onAbort = () => waiting?.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal?.aborted) {
      const batch = cursor < feed.base && feed.backfill
        ? await feed.backfill(cursor, feed.base)
        : feed.after(cursor);
      for (const event of batch) {
        if (event.seq <= cursor) continue;
        cursor = event.seq;
        yield event;
        if (isTerminal(event)) return;
      }
      if (batch.length > 0) continue;
      if (feed.done) return;
      const wait = feed.wait();
      waiting = wait;
      await wait.promise;
      waiting = null;
    }
  } finally {
    waiting?.cancel();
    signal?.removeEventListener("abort", onAbort);
    feed.followers--;
  }
}
