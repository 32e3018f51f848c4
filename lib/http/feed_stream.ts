/**
 * The event-stream response of a feed viewer: pulled, so a slow reader holds
 * a position, never a buffer; keep-alive comments when the feed's heartbeat
 * says one is due; a last comment at shutdown.
 *
 * @module
 */

import type { FeedViewer } from "../feeds/hub.ts";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../protocol.ts";
import { encodeServerSentEvent, KEEP_ALIVE_FRAME, SHUTDOWN_FRAME, SSE_HEADERS } from "../sse.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode feedStream}. */
export interface FeedStreamOptions {
  /** When set, a `retry:` hint is sent first. */
  retryMs?: number;
  /** Called once when the stream ends, for any reason. */
  onClose?: () => void;
  headers?: Record<string, string>;
}

/**
 * The response that streams `viewer`'s frames until the end.
 *
 * @example
 * ```ts ignore
 * return feedStream(await feeds.subscribe(scope, position, { openRun }), { retryMs: 1000 });
 * ```
 */
export function feedStream(viewer: FeedViewer, options: FeedStreamOptions = {}): Response {
  let closed = false;
  const cleanup = () => {
    if (closed) return;
    closed = true;
    viewer.close();
    options.onClose?.();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.retryMs !== undefined) {
        controller.enqueue(encoder.encode(encodeServerSentEvent({ retry: options.retryMs })));
      }
    },
    async pull(controller) {
      let step;
      try {
        step = await viewer.next();
      } catch (error) {
        if (!closed) controller.error(error);
        cleanup();
        return;
      }
      if (closed) return;
      if (step.kind === "keep-alive") return controller.enqueue(KEEP_ALIVE_FRAME);
      if (step.kind === "frames") {
        for (const frame of step.frames) controller.enqueue(frame);
        return;
      }
      if (step.reason === "shutdown") controller.enqueue(SHUTDOWN_FRAME);
      controller.close();
      cleanup();
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: { ...SSE_HEADERS, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...options.headers },
  });
}
