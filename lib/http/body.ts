/**
 * Reading request bodies: capped before they are read whole, decoded as
 * strict UTF-8, parsed, and checked against a schema. Every failure is an
 * {@linkcode HttpError} with a clear 4xx.
 *
 * @module
 */

import type { z } from "zod";
import { HttpError } from "../http_error.ts";
import { MAX_BODY_BYTES } from "../schemas.ts";

/** Reads a body into bytes, refusing (413) one larger than `limit`. */
export async function readBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "body_too_large", `The request body is larger than ${limit} bytes.`);
}

/** Decodes bytes as UTF-8, refusing (400) anything that is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_utf8", "The request body is not valid UTF-8.");
  }
}

/** Turns a schema failure into a 400 (or 413 for a value over its size). */
export function schemaError(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  const tooBig = error.issues.some((i) => i.code === "custom" && i.params?.tooLarge);
  const path = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  const message = `${path}${issue?.message ?? "The request body is invalid."}`;
  return tooBig
    ? new HttpError(413, "message_too_large", message.replace(/^message: /, "The message "))
    : new HttpError(400, "invalid_body", message);
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
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    await request.body?.cancel().catch(() => {});
    throw new HttpError(
      415,
      "unsupported_media_type",
      `Send JSON with "Content-Type: application/json", not "${type || "nothing"}".`,
    );
  }
  const text = decodeUtf8(await readBytes(request, limit));
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
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(?:;|$)/i.test(type)) {
    await request.body?.cancel().catch(() => {});
    throw new HttpError(415, "unsupported_media_type", `Send a form, not "${type || "nothing"}".`);
  }
  const text = decodeUtf8(await readBytes(request, limit));
  return Object.fromEntries(new URLSearchParams(text));
}
