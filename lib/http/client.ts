/**
 * Who is asking: the client identity that rate limits and stream caps count
 * by. It is the connection's remote address, which `Deno.serve` passes as the
 * handler's second argument and Lantern hands to Hono as `c.env`.
 *
 * @module
 */

import type { Context } from "hono";

/** The key used when the request came without connection info (in-process calls). */
export const UNKNOWN_CLIENT = "unknown";

/**
 * The client's identity: its IP address, or {@linkcode UNKNOWN_CLIENT}.
 * Proxy headers such as `X-Forwarded-For` are ignored on purpose: a client
 * can set them to anything.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { clientKey } from "./client.ts";
 * const app = new Hono().get("/", (c) => c.text(clientKey(c)));
 * const info = { remoteAddr: { transport: "tcp", hostname: "10.0.0.7", port: 5000 } };
 * const res = await app.fetch(new Request("http://x/"), info);
 * console.log(await res.text()); // 10.0.0.7
 * ```
 */
export function clientKey(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const hostname = env?.remoteAddr?.hostname;
  return typeof hostname === "string" && hostname !== "" ? hostname : UNKNOWN_CLIENT;
}
