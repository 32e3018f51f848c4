/**
 * One error type for failures raised at the HTTP edge, and the one place
 * where any thrown value becomes a JSON response ({@linkcode errorResponse}):
 * an {@linkcode HttpError} keeps its status; a domain error (lib/runs/errors.ts)
 * gets the status its code maps to here.
 *
 * @module
 */

import type { ErrorBody } from "./protocol.ts";
import { DomainError } from "./runs/errors.ts";

/**
 * An error with an HTTP status and a stable, machine-readable code.
 *
 * @example
 * ```ts
 * import { HttpError } from "./http_error.ts";
 * const err = new HttpError(404, "project_not_found", 'Project "x" was not found.');
 * console.log(err.status, err.code); // 404 project_not_found
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status of the response. */
  readonly status: number;
  /** A stable code, such as `invalid_body`. */
  readonly code: string;
  /** Extra headers for the response, such as `Retry-After`. */
  readonly headers: Record<string, string>;

  /** Makes an error with a status, a code, a message and optional headers. */
  constructor(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * A 404 for a thing that is not there: `<what>_not_found`.
 *
 * @example
 * ```ts
 * import { notFound } from "./http_error.ts";
 * console.log(notFound("memory", "m1").code); // memory_not_found
 * ```
 */
export function notFound(what: "project" | "run" | "memory", id: string | undefined): HttpError {
  const name = what === "project" ? "Project" : what === "run" ? "Run" : "The memory";
  const suffix = what === "run" ? " in this project" : "";
  return new HttpError(
    404,
    `${what}_not_found`,
    `${name} "${String(id).slice(0, 80)}" was not found${suffix}.`,
  );
}

/** The status of each domain error code, and of each way a run can fail. */
const STATUS_OF_CODE: Record<string, number> = {
  run_not_found: 404,
  project_not_found: 404,
  run_expired: 410,
  shutting_down: 503,
  run_unavailable: 503,
  cancel_timeout: 504,
  invalid_plan: 422,
  cancelled: 409,
  interrupted: 503,
  memory_too_long: 413,
  too_many_memories: 409,
  run_timeout: 504,
};

/**
 * The HTTP status of a domain error's code (run failures included).
 *
 * @example
 * ```ts
 * import { statusOfCode } from "./http_error.ts";
 * console.log(statusOfCode("run_expired"), statusOfCode("model_timeout"), statusOfCode("other")); // 410 502 500
 * ```
 */
export function statusOfCode(code: string): number {
  return STATUS_OF_CODE[code] ?? (code.startsWith("model_") ? 502 : 500);
}

/**
 * The JSON response for any thrown value: an {@linkcode HttpError} keeps its
 * status and message; a domain error gets its code's status; anything else
 * is a 500 with a generic message, so no stack trace or internal detail ever
 * reaches a client.
 *
 * @example
 * ```ts
 * import { errorResponse, HttpError } from "./http_error.ts";
 * const res = errorResponse(new HttpError(400, "invalid_json", "Body is not JSON."));
 * console.log(res.status, await res.json()); // 400 { error: { code: "invalid_json", message: "Body is not JSON." } }
 * ```
 */
export function errorResponse(error: unknown): Response {
  const known = error instanceof HttpError || error instanceof DomainError ? error : null;
  const status = error instanceof HttpError
    ? error.status
    : error instanceof DomainError
    ? statusOfCode(error.code)
    : 500;
  const body: ErrorBody = {
    error: {
      code: known?.code ?? "internal_error",
      message: known?.message ?? "Something went wrong on the server.",
    },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...(error instanceof HttpError ? error.headers : {}),
    },
  });
}
