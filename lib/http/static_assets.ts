/**
 * Serves `/static/*` like a production site: files under `static/dist/`
 * have content-hashed names and are cached for a year (`immutable`); the
 * Brotli and gzip copies the build made beside each text file are sent to
 * clients that accept them (`Vary: Accept-Encoding`), so nothing is
 * compressed per request.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json; charset=utf-8",
  woff2: "font/woff2",
  png: "image/png",
  txt: "text/plain; charset=utf-8",
};
/** Types the build precompresses (woff2 and png are compressed already). */
const COMPRESSED_EXT = new Set(["js", "css", "svg", "json", "txt"]);
const SAFE_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * The encodings a client accepts, by `Accept-Encoding` (with q=0 meaning no).
 *
 * @example
 * ```ts
 * import { acceptedEncodings } from "./static_assets.ts";
 * console.log([...acceptedEncodings("gzip, br;q=0")]); // [ "gzip" ]
 * ```
 */
export function acceptedEncodings(header: string | null | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const [name = "", ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q && !(Number(q.slice(2)) > 0)) continue;
    if (name) out.add(name.trim().toLowerCase());
  }
  return out;
}

async function statFile(path: string): Promise<Deno.FileInfo | null> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : null;
  } catch {
    return null;
  }
}

/**
 * The middleware for `/static/*`, reading from `root` (the `static` folder).
 * Anything it does not find falls through to the app's 404.
 *
 * @example
 * ```ts ignore
 * app.use("/static/*", staticAssets());
 * ```
 */
export function staticAssets({ root = "static" }: { root?: string } = {}): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const rel = c.req.path.replace(/^\/static\//, "");
    if ((method !== "GET" && method !== "HEAD") || !SAFE_PATH.test(rel)) return await next();
    const ext = rel.slice(rel.lastIndexOf(".") + 1).toLowerCase();
    const type = TYPES[ext];
    const file = `${root}/${rel}`;
    const plain = type ? await statFile(file) : null;
    if (!type || !plain) return await next();
    const headers = new Headers({
      "content-type": type,
      "cache-control": rel.startsWith("dist/")
        ? "public, max-age=31536000, immutable"
        : "public, max-age=300",
    });
    let path = file;
    let size = plain.size;
    if (COMPRESSED_EXT.has(ext)) {
      headers.set("vary", "Accept-Encoding");
      const accepted = acceptedEncodings(c.req.header("accept-encoding"));
      for (const [encoding, suffix] of [["br", ".br"], ["gzip", ".gz"]] as const) {
        if (!accepted.has(encoding)) continue;
        const info = await statFile(file + suffix);
        if (!info) continue;
        headers.set("content-encoding", encoding);
        path = file + suffix;
        size = info.size;
        break;
      }
    }
    headers.set("content-length", String(size));
    if (method === "HEAD") return new Response(null, { headers });
    const handle = await Deno.open(path, { read: true });
    return new Response(handle.readable, { headers });
  };
}
