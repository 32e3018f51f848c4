/**
 * One error type for every failure a client can cause or see, mapped to a
 * JSON response in one place ({@linkcode errorResponse}).
 *
 * @module
 */

import type { ErrorBody } from "./protocol.ts";

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
 * The JSON response for any thrown value: an {@linkcode HttpError} keeps its
 * status and message; anything else is a 500 with a generic message, so no
 * stack trace or internal detail ever reaches a client.
 *
 * @example
 * ```ts
 * import { errorResponse, HttpError } from "./http_error.ts";
 * const res = errorResponse(new HttpError(400, "invalid_json", "Body is not JSON."));
 * console.log(res.status, await res.json()); // 400 { error: { code: "invalid_json", message: "Body is not JSON." } }
 * ```
 */
export function errorResponse(error: unknown): Response {
  const http = error instanceof HttpError ? error : null;
  const body: ErrorBody = {
    error: {
      code: http?.code ?? "internal_error",
      message: http?.message ?? "Something went wrong on the server.",
    },
  };
  return new Response(JSON.stringify(body), {
    status: http?.status ?? 500,
    headers: {
      "content-type": "application/json; charset=utf-8",
      ...http?.headers,
    },
  });
}
