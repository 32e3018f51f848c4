/**
 * A run's native event stream: the bytes of `text/event-stream` for one
 * follower, mapped from a {@linkcode FeedCursor}. It pulls: frames are
 * handed over only when the response asks for more, so a slow reader holds
 * a cursor, never a buffer.
 *
 * @module
 */

import { encodeServerSentEvent, KEEP_ALIVE_FRAME, SHUTDOWN_FRAME } from "../sse.ts";
import { FeedCursor, type FeedStep } from "./cursor.ts";
import { encodeFrame, type RunFeed } from "./feed.ts";
import { isTerminal } from "./outcome.ts";

const encoder = new TextEncoder();

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
 * and closes after the terminal event.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * import { followFrames } from "./event_stream.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "error", runId: "r1", seq: 1, ts: 0, error: { code: "x", message: "y", step: null } });
 * const text = await new Response(followFrames(feed, { after: 0, heartbeatMs: 1000 })).text();
 * console.log(text.startsWith("id: 1\n")); // true
 * ```
 */
export function followFrames(feed: RunFeed, options: FollowOptions): ReadableStream<Uint8Array> {
  const cursor = new FeedCursor(feed, {
    after: options.after,
    heartbeatMs: options.heartbeatMs,
    shutdown: options.shutdown,
  });
  const cleanup = () => {
    if (cursor.close()) options.onClose?.();
  };
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, last?: Uint8Array) => {
    if (last) controller.enqueue(last);
    controller.close();
    cleanup();
  };
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    if (!cursor.closed) controller.error(error);
    cleanup();
  };
  // A follower that keeps up finds its events in memory, or is called back
  // (synchronously) when the next one is pushed: no promise per event. Only a
  // catch-up from the log goes through a promise.
  let wakeController: ReadableStreamDefaultController<Uint8Array> | null = null;
  const onReady = () => {
    // Called from inside the run's emit: nothing may throw back into it.
    const controller = wakeController;
    if (!controller) return;
    try {
      pump(controller);
    } catch (error) {
      fail(controller, error);
    }
  };
  const pump = (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void => {
    if (cursor.closed) return;
    if (cursor.takeKeepAlive()) return controller.enqueue(KEEP_ALIVE_FRAME);
    const frame = cursor.pollFrame();
    if (frame) {
      controller.enqueue(frame);
      if (feed.ended && cursor.position === feed.lastSeq) end(controller);
      return;
    }
    let step;
    try {
      step = cursor.poll();
    } catch (error) {
      return fail(controller, error);
    }
    if (step) return send(controller, step);
    if (feed.behind(cursor.position)) {
      return cursor.next().then((step) => send(controller, step), (error) => fail(controller, error));
    }
    wakeController = controller;
    cursor.notify(onReady);
  };
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, step: FeedStep) => {
    if (cursor.closed) return;
    if (step.kind === "keep-alive") return controller.enqueue(KEEP_ALIVE_FRAME);
    if (step.kind === "end") {
      if (step.reason === "shutdown") return end(controller, SHUTDOWN_FRAME);
      return end(controller, crashNotice(feed, cursor.position) ?? undefined);
    }
    const { events, frames } = step;
    for (let i = 0; i < events.length; i++) controller.enqueue(frames?.[i] ?? encodeFrame(events[i]!));
    if (isTerminal(events[events.length - 1]!)) end(controller);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.retryMs !== undefined) {
        controller.enqueue(encoder.encode(encodeServerSentEvent({ retry: options.retryMs })));
      }
    },
    pull(controller) {
      return pump(controller);
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
 * import { crashNotice } from "./event_stream.ts";
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
