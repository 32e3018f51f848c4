/**
 * The `Host` allowlist (`LANTERN_ALLOWED_HOSTS`), against DNS rebinding: a
 * web page on `evil.example` whose name is made to resolve to 127.0.0.1
 * reaches Lantern as "same origin" with `Host: evil.example`. The CSRF check
 * compares `Origin` with `Host`, so only refusing the host stops it.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { Config } from "../config.ts";
import { HttpError } from "../http_error.ts";

/** Paths served whatever the `Host` (a health check addresses the pod by IP). */
export const HOST_EXEMPT_PATHS: readonly string[] = ["/healthz"];

/**
 * The hosts a configuration serves: `LANTERN_ALLOWED_HOSTS` when set; else,
 * while no token is set, the loopback names and the listening address (any
 * port); else null, meaning any host (the token and the host-bound session
 * cookie guard it).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { allowedHosts } from "./host_guard.ts";
 * console.log(allowedHosts(loadConfig({}))); // [ "localhost", "127.0.0.1", "[::1]" ]
 * console.log(allowedHosts(loadConfig({ LANTERN_TOKEN: "a-long-enough-token" }))); // null
 * ```
 */
export function allowedHosts(config: Config): string[] | null {
  if (config.allowedHosts !== null) return config.allowedHosts.includes("*") ? null : config.allowedHosts;
  if (config.token !== null) return null;
  const listen = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host;
  return [...new Set(["localhost", "127.0.0.1", "[::1]", listen.toLowerCase()])];
}

/**
 * Whether `host` (a `Host` header value: name or `[v6]`, optional port)
 * matches an entry of `allowed`: an entry without a port allows any port.
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./host_guard.ts";
 * console.log(hostAllowed("localhost:8000", ["localhost"])); // true
 * console.log(hostAllowed("evil.example:8000", ["localhost"])); // false
 * console.log(hostAllowed("app.test:443", ["app.test:8443"])); // false
 * ```
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const parsed = splitHost(host.trim().toLowerCase());
  if (!parsed) return false;
  return allowed.some((entry) => {
    const want = splitHost(entry);
    return want !== null && want.name === parsed.name && (want.port === "" || want.port === parsed.port);
  });
}

function splitHost(host: string): { name: string; port: string } | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host);
  return match ? { name: match[1]!, port: match[2] ?? "" } : null;
}

/**
 * A middleware that answers `421 {"error":{"code":"misdirected_request"}}`
 * to a request whose `Host` is not in `allowed` (null allows any). It runs
 * before everything else but the security headers.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { hostGuard } from "./host_guard.ts";
 * const app = new Hono();
 * app.use(hostGuard({ allowed: ["localhost"] }));
 * app.get("/", (c) => c.text("ok"));
 * console.log((await app.request("http://localhost:8000/")).status); // 200
 * console.log((await app.request("http://evil.example:8000/")).status); // 421
 * ```
 */
export function hostGuard(options: { allowed: readonly string[] | null }): MiddlewareHandler {
  const { allowed } = options;
  return async (c, next) => {
    if (allowed === null || HOST_EXEMPT_PATHS.includes(c.req.path)) return await next();
    // Deno builds the URL from the Host header (or localhost when there is none).
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!hostAllowed(host, allowed)) {
      await c.req.raw.body?.cancel().catch(() => {});
      throw new HttpError(
        421,
        "misdirected_request",
        `This Lantern does not answer to the host "${
          host.slice(0, 100)
        }"; add it to LANTERN_ALLOWED_HOSTS to allow it.`,
      );
    }
    await next();
  };
}
