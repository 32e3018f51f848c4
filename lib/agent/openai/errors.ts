/**
 * How the OpenAI engine fails and retries: which failures are worth a retry
 * and after how long (backoff, `Retry-After`), the note that announces a
 * retry, and the {@linkcode EngineError} with a stable code and an
 * actionable sentence for every failure.
 *
 * @module
 */

import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { plural } from "../../plural.ts";
import { EngineError, type EngineNote } from "../engine.ts";

/** The first retry waits this long; each next one waits twice as long. */
const BACKOFF_MS = 250;
/** A `Retry-After` longer than this is not worth holding a run open for. */
const MAX_RETRY_AFTER_MS = 20_000;

/**
 * How long to wait before retrying, or `null` when the failure is final:
 * backoff for an unreachable server, a 408, 409, 429 or 5xx (or the wait its
 * `Retry-After` asks, up to 20 s); never for a timeout or another status.
 *
 * @example
 * ```ts
 * import { APIError } from "openai";
 * import { retryDelay } from "./errors.ts";
 * console.log(retryDelay(APIError.generate(503, undefined, "busy", new Headers()), 2)); // 500
 * console.log(retryDelay(APIError.generate(400, undefined, "bad", new Headers()), 1)); // null
 * ```
 */
export function retryDelay(error: unknown, attempt: number): number | null {
  const backoff = BACKOFF_MS * 2 ** (attempt - 1);
  // A timeout is not retried: the user already waited the whole timeout once.
  if (error instanceof APIConnectionTimeoutError) return null;
  if (error instanceof APIConnectionError) return backoff;
  if (!(error instanceof APIError) || error.status === undefined) return null;
  const status = error.status;
  if (status !== 408 && status !== 409 && status !== 429 && status < 500) {
    return null;
  }
  if (error.headers?.get("x-should-retry") === "false") return null;
  const hinted = retryAfterMs(error.headers);
  if (hinted === null) return backoff;
  return hinted <= MAX_RETRY_AFTER_MS ? hinted : null;
}

/** The wait a response asks for, from `retry-after-ms` or `retry-after`. */
function retryAfterMs(headers: Headers | undefined): number | null {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers?.get("retry-after");
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return Math.round(seconds * 1000);
  }
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * The note that announces a retry.
 *
 * @example
 * ```ts
 * import { retryNote } from "./errors.ts";
 * console.log(retryNote(new TypeError("fetch failed"), 2, 3, 250).message);
 * // The model provider could not be reached; retrying in 250 ms (attempt 2 of 3).
 * ```
 */
export function retryNote(
  error: unknown,
  attempt: number,
  attempts: number,
  delayMs: number,
): EngineNote {
  const status = error instanceof APIError ? error.status : undefined;
  const what = status === undefined
    ? "The model provider could not be reached"
    : `The model answered ${status}`;
  return {
    kind: "note",
    message: `${what}; retrying in ${delayMs} ms (attempt ${attempt} of ${attempts}).`,
    details: error instanceof Error ? error.message : String(error),
    metadata: { attempt, attempts, status: status ?? null, delayMs },
  };
}

/**
 * Maps a failure while reading a stream: an unreadable reply or a dropped
 * connection; anything else is returned as it is.
 *
 * @example
 * ```ts
 * import { streamError } from "./errors.ts";
 * console.log((streamError(new SyntaxError("bad JSON")) as { code: string }).code); // model_bad_response
 * ```
 */
export function streamError(error: unknown): unknown {
  if (
    error instanceof SyntaxError ||
    (error instanceof APIError && error.status === undefined)
  ) {
    return new EngineError(
      "model_bad_response",
      "The model sent a reply Lantern could not read; try again, or pick another model with LANTERN_MODEL.",
      { cause: error },
    );
  }
  if (error instanceof TypeError || error instanceof APIConnectionError) {
    return new EngineError(
      "model_network",
      "The connection to the model dropped before its reply was complete; try again.",
      { cause: error },
    );
  }
  return error;
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message : error.message;
}

/**
 * Rethrows the run's abort when it was cancelled, whatever failed meanwhile.
 *
 * @example
 * ```ts
 * import { rethrowIfAborted } from "./errors.ts";
 * const controller = new AbortController();
 * rethrowIfAborted(controller.signal, new Error("other"));
 * controller.abort();
 * try {
 *   rethrowIfAborted(controller.signal);
 * } catch (error) {
 *   console.log((error as Error).name); // AbortError
 * }
 * ```
 */
export function rethrowIfAborted(signal: AbortSignal, error?: unknown): void {
  if (signal.aborted) throw signal.reason;
  if (error instanceof APIUserAbortError) {
    throw new DOMException("The model request was aborted.", "AbortError");
  }
}

/** Where the model is, for the sentences that name it. */
export interface ModelAt {
  baseUrl: string;
  model: string;
  timeoutMs: number;
}

/**
 * The error for a model that stayed silent past the timeout.
 *
 * @example
 * ```ts
 * import { timeoutError } from "./errors.ts";
 * console.log(timeoutError(5000).code); // model_timeout
 * ```
 */
export function timeoutError(timeoutMs: number, cause?: unknown): EngineError {
  return new EngineError(
    "model_timeout",
    `The model did not answer within ${timeoutMs} ms; try again, or raise LANTERN_MODEL_TIMEOUT_MS.`,
    { cause },
  );
}

/**
 * Maps a failure to start a completion to an error the user can act on
 * (anything it does not know is returned as it is).
 *
 * @example
 * ```ts
 * import { APIError } from "openai";
 * import { toEngineError } from "./errors.ts";
 * const refused = APIError.generate(401, undefined, "no", new Headers());
 * const error = toEngineError(refused, 1, { baseUrl: "http://localhost:11434/v1", model: "llama3.1", timeoutMs: 1000 });
 * console.log((error as { code: string }).code); // model_auth
 * ```
 */
export function toEngineError(error: unknown, attempts: number, model: ModelAt): unknown {
  const tries = plural(attempts, "attempt");
  if (error instanceof APIConnectionTimeoutError) {
    return timeoutError(model.timeoutMs, error);
  }
  if (error instanceof APIConnectionError) {
    return new EngineError(
      "model_network",
      `Lantern could not reach the model provider at "${model.baseUrl}" after ${tries}; check OPENAI_BASE_URL and that the server is running, then try again.`,
      { cause: error },
    );
  }
  if (!(error instanceof APIError)) return error;
  const status = error.status;
  if (status === 401 || status === 403) {
    return new EngineError(
      "model_auth",
      `The model provider refused the API key (${status}); check OPENAI_API_KEY and try again.`,
      { cause: error },
    );
  }
  if (status === 429) {
    return new EngineError(
      "model_rate_limited",
      `The model provider is still rate limiting requests (429) after ${tries}; wait a minute and try again.`,
      { cause: error },
    );
  }
  if (status === 408) return timeoutError(model.timeoutMs, error);
  if (status !== undefined && (status >= 500 || status === 409)) {
    return new EngineError(
      "model_unavailable",
      `The model provider failed with status ${status} after ${tries}; try again later.`,
      { cause: error },
    );
  }
  if (status === 404) {
    return new EngineError(
      "model_not_found",
      `The model provider at "${model.baseUrl}" does not know the model "${model.model}" (404); check LANTERN_MODEL and OPENAI_BASE_URL.`,
      { cause: error },
    );
  }
  if (status !== undefined) {
    return new EngineError(
      "model_bad_request",
      `The model provider rejected the request (${status}: "${
        providerMessage(error)
      }"); check LANTERN_MODEL, or try another model.`,
      { cause: error },
    );
  }
  return streamError(error);
}
