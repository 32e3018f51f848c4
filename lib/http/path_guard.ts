/**
 * Refuses request paths no Lantern page or file can have: dot segments
 * (`..`, `.`, also percent-encoded), control characters and NUL (also
 * encoded), and paths longer than 2,048 characters. Browsers never send
 * these; refusing them first means no later check (the public `/static/`
 * prefix, the file server) ever sees a path that could climb out of where
 * it seems to point.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";

const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;
// deno-lint-ignore no-control-regex
const CONTROL = /%(?:[01][0-9a-f]|7f)|[\u0000-\u001f\u007f]/i;

/** Whether a raw (undecoded) URL path is one Lantern could serve. */
export function isCleanPath(path: string): boolean {
  // Encoded slashes and backslashes separate segments for some file systems and decoders.
  const separated = path.replace(/%2f|%5c|\\/gi, "/");
  return path.length <= 2048 && !CONTROL.test(path) && !DOT_SEGMENT.test(separated);
}

/**
 * A middleware that answers 404 (JSON) for a path {@linkcode isCleanPath}
 * refuses.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { pathGuard } from "./path_guard.ts";
 * const app = new Hono();
 * app.use(pathGuard());
 * app.get("/static/*", (c) => c.text("file"));
 * console.log((await app.request("http://x/static/a%00b")).status); // 404
 * ```
 */
export function pathGuard(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const end = url.search(/[?#]/);
    const path = start === -1 ? "/" : url.slice(start, end === -1 ? undefined : end);
    if (!isCleanPath(path)) throw new HttpError(404, "not_found", "Nothing lives at that path.");
    await next();
  };
}
