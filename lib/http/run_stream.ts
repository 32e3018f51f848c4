/**
 * The event-stream response that follows a run.
 *
 * @module
 */

import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../protocol.ts";
import type { RunRegistry } from "../runs/registry.ts";
import { crashNotice, followFrames } from "../runs/event_stream.ts";
import { encodeServerSentEvent, SSE_HEADERS } from "../sse.ts";

/** Options of {@linkcode runStream}. */
export interface RunStreamOptions {
  after: number;
  heartbeatMs: number;
  retryMs?: number;
  /** Called when the stream ends for any reason. */
  onClose?: () => void;
  headers?: Record<string, string>;
}

/**
 * The event-stream response that follows a run from `after`. A run that has
 * already ended with nothing after `after` answers 204, which tells an
 * EventSource to stop reconnecting.
 *
 * @example
 * ```ts ignore
 * return await runStream(runs, projectId, runId, { after: 0, heartbeatMs: 15_000 });
 * ```
 */
export async function runStream(
  runs: RunRegistry,
  projectId: string,
  runId: string,
  options: RunStreamOptions,
): Promise<Response> {
  const { feed, release } = await runs.open(projectId, runId);
  const headers = {
    ...SSE_HEADERS,
    [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
    "x-run-id": runId,
    ...options.headers,
  };
  // Only a run that really ended says 204 (an EventSource then stops for good);
  // a feed closed for another reason (a shutdown) lets the client come back.
  if (feed.ended && options.after >= feed.lastSeq) {
    release();
    options.onClose?.();
    // A client that saw events a crash kept from the log is told how the run ended.
    const notice = crashNotice(feed, options.after);
    if (!notice) return new Response(null, { status: 204 });
    const retry = options.retryMs === undefined ? "" : encodeServerSentEvent({ retry: options.retryMs });
    return new Response(new Blob([retry, notice]), { headers });
  }
  const body = followFrames(feed, {
    after: options.after,
    heartbeatMs: options.heartbeatMs,
    retryMs: options.retryMs,
    shutdown: runs.shutdownSignal,
    onClose: () => {
      release();
      options.onClose?.();
    },
  });
  return new Response(body, { headers });
}
