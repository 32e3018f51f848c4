/**
 * Reading request bodies: capped before they are read whole, read under a
 * deadline, decoded as strict UTF-8 (another charset is refused), parsed, and
 * checked against a schema. Every failure is an {@linkcode HttpError} with a
 * clear 4xx; a refusal that leaves body bytes unread (408, 413, a broken
 * body) says `Connection: close`, so the client stops sending and Deno closes
 * the connection once the body is over instead of keeping it alive.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { HttpError } from "../http_error.ts";
import { MAX_BODY_BYTES } from "../schemas.ts";

/** The header that tells a client its connection ends with this answer. */
const CLOSE = { connection: "close" };

/** When each request's body must have arrived (ms since the epoch), set by {@linkcode bodyLimit}. */
const deadlines = new WeakMap<Request, number>();

/**
 * Reads a body into bytes, refusing (413) one larger than `limit`, and (408)
 * one that has not arrived by the deadline {@linkcode bodyLimit} set.
 */
export async function readBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  const deadline = deadlines.get(request);
  const watch = deadline === undefined ? null : { reader, deadline, late: false };
  if (watch) watchDeadline(watch);
  try {
    while (true) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch {
        // The client went away or sent a broken chunked body.
        throw new HttpError(400, "body_unreadable", "The request body could not be read to its end.", CLOSE);
      }
      if (watch?.late) {
        throw new HttpError(
          408,
          "body_timeout",
          `The request body did not arrive in time (${size} bytes came); send it whole and promptly.`,
          CLOSE,
        );
      }
      const { value, done } = step;
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    if (watch) watching.delete(watch);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A body being read and when it must have arrived. */
interface Watched {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  deadline: number;
  /** Set when the deadline passed: the reader was cancelled. */
  late: boolean;
}

/**
 * Bodies being read under a deadline. One timer checks them all, a few times
 * a second, rather than a timer and a race per request: a late body's reader
 * is cancelled, which ends its pending read.
 */
const watching = new Set<Watched>();
const SWEEP_MS = 100;
let sweeper: ReturnType<typeof setInterval> | undefined;

function watchDeadline(watched: Watched): void {
  watching.add(watched);
  if (sweeper !== undefined) return;
  sweeper = setInterval(() => {
    const now = Date.now();
    for (const item of watching) {
      if (item.deadline > now) continue;
      item.late = true;
      watching.delete(item);
      item.reader.cancel().catch(() => {});
    }
    if (watching.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }, SWEEP_MS);
  // A server with nothing else to do may exit; the sweeper does not keep it alive.
  Deno.unrefTimer(sweeper);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "body_too_large", `The request body is larger than ${limit} bytes.`, CLOSE);
}

/**
 * Refuses (415) a body whose `Content-Type` names a charset other than
 * UTF-8: its bytes would be read as UTF-8 and mean something else.
 *
 * @example
 * ```ts
 * import { checkCharset } from "./body.ts";
 * checkCharset("application/json; charset=UTF-8"); // fine
 * try { checkCharset("application/json; charset=utf-16"); } catch (e) { console.log((e as { status: number }).status); } // 415
 * ```
 */
export function checkCharset(type: string): void {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  if (!match) return;
  const charset = (match[1] ?? match[2] ?? "").trim();
  if (/^utf-?8$/i.test(charset)) return;
  throw new HttpError(
    415,
    "unsupported_charset",
    `Send the body as UTF-8; the charset "${charset.slice(0, 40)}" is not supported.`,
  );
}

/** One decoder for every body: a whole-buffer `decode` (not streaming) keeps no state between calls. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes bytes as UTF-8, refusing (400) anything that is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_utf8", "The request body is not valid UTF-8.");
  }
}

/** Turns a schema failure into a 400 (or a 413 for a value over its size). */
export function schemaError(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const tooLarge = error.issues
    .map((i) => (i.code === "custom" ? i.params?.tooLarge : undefined))
    .find((code): code is string => typeof code === "string");
  if (tooLarge) {
    const big = error.issues.find((i) => i.code === "custom" && i.params?.tooLarge)!;
    return new HttpError(413, tooLarge, big.message);
  }
  if (!issue) return new HttpError(400, "invalid_body", "The request body is invalid.");
  // Our own messages name their field; zod's built-in ones get the path.
  const named = issue.code === "custom" || /^The /.test(issue.message);
  const message = issue.path.length === 0 && issue.code === "invalid_type"
    ? "The request body must be a JSON object."
    : named || issue.path.length === 0
    ? issue.message
    : `${issue.path.join(".")}: ${issue.message}`;
  return new HttpError(400, "invalid_body", message);
}

/**
 * Reads a JSON body (content type `application/json`) and validates it.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { readJson } from "./body.ts";
 * const req = new Request("http://x/", {
 *   method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"A"}',
 * });
 * console.log(await readJson(req, z.object({ name: z.string() }))); // { name: "A" }
 * ```
 */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  limit = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  const text = await readText(
    request,
    /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i,
    (type) => `Send JSON with "Content-Type: application/json", not "${type || "nothing"}".`,
    limit,
  );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw schemaError(parsed.error);
  return parsed.data;
}

/** Reads a form body (`application/x-www-form-urlencoded`) as a plain object. */
export async function readForm(request: Request, limit = MAX_BODY_BYTES): Promise<Record<string, string>> {
  const text = await readText(
    request,
    /^application\/x-www-form-urlencoded\s*(?:;|$)/i,
    (type) => `Send a form, not "${type || "nothing"}".`,
    limit,
  );
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * Reads a body as UTF-8 text once its content type matches `accepted` and
 * its charset is UTF-8 (415 otherwise, with the body dropped unread).
 */
async function readText(
  request: Request,
  accepted: RegExp,
  refusal: (type: string) => string,
  limit: number,
): Promise<string> {
  const type = request.headers.get("content-type") ?? "";
  try {
    if (!accepted.test(type)) throw new HttpError(415, "unsupported_media_type", refusal(type));
    checkCharset(type);
  } catch (error) {
    await request.body?.cancel().catch(() => {});
    throw error;
  }
  return decodeUtf8(await readBytes(request, limit));
}

/** Options of {@linkcode bodyLimit}. */
export interface BodyLimitOptions {
  /** The cap for every route, in bytes (default {@linkcode MAX_BODY_BYTES}). */
  maxBytes?: number;
  /** A route's own cap, when it reads more (the AG-UI route reads whole threads). */
  limitFor?: (method: string, path: string) => number | undefined;
  /**
   * How long a client has, from the moment its request head arrived, to
   * send the whole body (ms); then {@linkcode readBytes} answers 408.
   * 0 or absent: no deadline.
   */
  timeoutMs?: number;
}

/**
 * A middleware that refuses (413) any request whose `Content-Length` is over
 * `maxBytes` before a route reads a byte of it, and starts the body's
 * deadline (`timeoutMs`). A chunked body has no length up front:
 * {@linkcode readBytes} stops reading it at the same cap.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { bodyLimit } from "./body.ts";
 * const app = new Hono();
 * app.use(bodyLimit({ maxBytes: 10 }));
 * app.post("/", (c) => c.text("ok"));
 * console.log((await app.request("/", { method: "POST", body: "x".repeat(11) })).status); // 413
 * ```
 */
export function bodyLimit(options: BodyLimitOptions = {}): MiddlewareHandler {
  const fallback = options.maxBytes ?? MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? 0;
  return async (c, next) => {
    if (timeoutMs > 0) deadlines.set(c.req.raw, Date.now() + timeoutMs);
    const limit = options.limitFor?.(c.req.method, c.req.path) ?? fallback;
    const declared = c.req.header("content-length");
    if (declared !== undefined && !(Number(declared) <= limit)) {
      await c.req.raw.body?.cancel().catch(() => {});
      throw /^\d+$/.test(declared.trim())
        ? tooLarge(limit)
        : new HttpError(400, "invalid_content_length", "The Content-Length header is not a number.", CLOSE);
    }
    await next();
  };
}
