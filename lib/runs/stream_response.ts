/**
 * Event-stream responses and run outcomes for the HTTP layer.
 *
 * @module
 */

import { HttpError } from "../http_error.ts";
import type { ChatResult, RunEvent } from "../protocol.ts";
import { encodeServerSentEvent, SSE_HEADERS } from "../sse.ts";
import { crashNotice, followEvents, followFrames } from "./follow.ts";
import type { RunRegistry } from "./registry.ts";

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
 */
export async function runStream(
  runs: RunRegistry,
  projectId: string,
  runId: string,
  options: RunStreamOptions,
): Promise<Response> {
  const { feed, release } = await runs.open(projectId, runId);
  // Only a run that really ended says 204 (an EventSource then stops for good);
  // a feed closed for another reason (a shutdown) lets the client come back.
  if (feed.ended && options.after >= feed.lastSeq) {
    release();
    options.onClose?.();
    // A client that saw events a crash kept from the log is told how the run ended.
    const notice = crashNotice(feed, options.after);
    if (notice) {
      const retry = options.retryMs === undefined ? "" : encodeServerSentEvent({ retry: options.retryMs });
      return new Response(new Blob([retry, notice]), {
        headers: { ...SSE_HEADERS, "x-run-id": runId, ...options.headers },
      });
    }
    return new Response(null, { status: 204 });
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
  return new Response(body, { headers: { ...SSE_HEADERS, "x-run-id": runId, ...options.headers } });
}

/** The status a failed run's code maps to, for the non-streaming routes. */
export function statusForCode(code: string): number {
  if (code === "invalid_plan") return 422;
  if (code === "cancelled") return 409;
  if (code === "interrupted") return 503;
  if (code.startsWith("model_")) return 502;
  return 500;
}

/** Waits for a run's terminal event: its result, or an {@linkcode HttpError}. */
export async function runOutcome(runs: RunRegistry, projectId: string, runId: string): Promise<ChatResult> {
  const { feed, release } = await runs.open(projectId, runId);
  let terminal: RunEvent | undefined;
  try {
    for await (const event of followEvents(feed, 0)) terminal = event;
  } finally {
    release();
  }
  if (terminal?.type === "result") return terminal.result;
  const error = terminal?.type === "error"
    ? terminal.error
    : terminal?.type === "cancelled"
    ? { code: "cancelled", message: terminal.cancelled.message }
    : { code: "internal_error", message: "The run ended without an answer." };
  throw new HttpError(statusForCode(error.code), error.code, error.message);
}
