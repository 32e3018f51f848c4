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
import { FeedWaiter, KEEP_ALIVE } from "./feed_waiter.ts";

export { followerStats } from "./feed_waiter.ts";

const encoder = new TextEncoder();
const SHUTDOWN = encoder.encode(
  encodeServerSentEvent({ comment: "server shutting down; reconnect to continue" }),
);

/** Options of {@linkcode followFrames}. */
export interface FollowOptions {
  /** Send events with a seq above this. */
  after: number;
  /** Send a keep-alive comment after this much silence. */
  heartbeatMs: number;
  /** When set, a `retry:` hint is sent first. */
  retryMs?: number;
  /**
   * When it aborts, a final comment is sent and the stream closes (at the
   * next pull: a client that reads nothing holds its response open until the
   * server closes its connection).
   */
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
  const waiter = new FeedWaiter(feed, heartbeatMs);
  const cleanup = () => {
    if (!waiter.close()) return;
    shutdown?.removeEventListener("abort", onShutdown);
    options.onClose?.();
  };
  const onShutdown = () => waiter.interrupt();
  shutdown?.addEventListener("abort", onShutdown, { once: true });

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.retryMs !== undefined) {
        controller.enqueue(encoder.encode(encodeServerSentEvent({ retry: options.retryMs })));
      }
    },
    async pull(controller) {
      while (!waiter.closed) {
        if (shutdown?.aborted) {
          controller.enqueue(SHUTDOWN);
          controller.close();
          cleanup();
          return;
        }
        if (feed.behind(cursor)) {
          // One bounded batch per pull: the next is read when the client has taken this one.
          let next: RunEvent[];
          try {
            next = await feed.catchUp(cursor);
          } catch (error) {
            if (!waiter.closed) controller.error(error);
            cleanup();
            return;
          }
          if (waiter.closed) return;
          for (const event of next) {
            controller.enqueue(encodeFrame(event));
            cursor = event.seq;
          }
          waiter.sent();
          return;
        }
        if (cursor < feed.lastSeq) {
          for (const frame of feed.framesAfter(cursor)) controller.enqueue(frame);
          cursor = feed.lastSeq;
          waiter.sent();
          if (feed.done) {
            controller.close();
            cleanup();
          }
          return;
        }
        if (feed.done) {
          const notice = cursor > feed.lastSeq ? crashNotice(feed, cursor) : null;
          if (notice) controller.enqueue(notice);
          controller.close();
          cleanup();
          return;
        }
        if (await waiter.wait()) {
          controller.enqueue(KEEP_ALIVE);
          waiter.sent();
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
 * The frame for a client that saw more of a crashed run than its log holds,
 * or null when the run did not end `interrupted`.
 *
 * Events reach followers in the owner's process before they reach the log,
 * so a follower of an owner killed mid-write may have seen seqs past the
 * log's end, where the `interrupted` error then took the next seq. Such a
 * client (its cursor `after` past the error) gets that error once, its `seq`
 * set just past what the client saw, so that a client skipping seqs it has
 * seen still takes it; its `id:` is the log's last seq, so that an
 * EventSource that reconnects is answered 204 and stops.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { crashNotice } from "./follow.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "error", runId: "r1", seq: 1, ts: 0, error: { code: "interrupted", message: "x", step: null } });
 * console.log(new TextDecoder().decode(crashNotice(feed, 4)!).startsWith("id: 1\n")); // true
 * ```
 */
export function crashNotice(feed: RunFeed, after: number): Uint8Array<ArrayBuffer> | null {
  const terminal = feed.events.at(-1);
  if (!feed.ended || after <= feed.lastSeq || terminal?.type !== "error") return null;
  if (terminal.error.code !== "interrupted") return null;
  const event = { ...terminal, seq: after + 1 };
  return encoder.encode(encodeServerSentEvent({ id: terminal.seq, data: JSON.stringify(event) }));
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
      const batch = feed.behind(cursor) ? await feed.catchUp(cursor) : feed.after(cursor);
      for (const event of batch) {
        if (event.seq <= cursor) continue;
        if (event.seq !== cursor + 1) throw new Error(`Run ${feed.runId} lost events after seq ${cursor}.`);
        cursor = event.seq;
        yield event;
        if (isTerminal(event)) return;
      }
      if (batch.length > 0) continue;
      if (cursor < feed.base) throw new Error(`Run ${feed.runId} lost events after seq ${cursor}.`);
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
