/**
 * Security headers on every response: a strict Content-Security-Policy (no
 * inline script or style, no framing), `nosniff`, no referrer to other sites, and HSTS when
 * the request came over HTTPS.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";

/** The Content-Security-Policy Lantern sends: scripts, styles and connections from itself only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join("; ");

/** Options of {@linkcode securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Replaces the default {@linkcode CONTENT_SECURITY_POLICY}. */
  contentSecurityPolicy?: string;
  /** Whether to send `Strict-Transport-Security` on HTTPS requests (default true). */
  hsts?: boolean;
}

/**
 * A middleware that sets the security headers on every response, including
 * errors, redirects, static files and event streams.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { securityHeaders } from "./security_headers.ts";
 * const app = new Hono();
 * app.use(securityHeaders());
 * app.get("/", (c) => c.text("hi"));
 * const res = await app.request("/");
 * console.log(res.headers.get("x-frame-options")); // DENY
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const headers: [string, string][] = [
    ["content-security-policy", options.contentSecurityPolicy ?? CONTENT_SECURITY_POLICY],
    ["x-content-type-options", "nosniff"],
    // Not no-referrer: under it a browser sends "Origin: null" with its own form posts,
    // which the CSRF check needs. same-origin sends nothing to any other site.
    ["referrer-policy", "same-origin"],
    ["x-frame-options", "DENY"],
    ["cross-origin-opener-policy", "same-origin"],
  ];
  const hsts = options.hsts ?? true;
  return async (c, next) => {
    await next();
    const set = [...headers];
    if (hsts && c.req.url.startsWith("https:")) {
      set.push(["strict-transport-security", "max-age=31536000"]);
    }
    try {
      for (const [name, value] of set) c.res.headers.set(name, value);
    } catch {
      // Some responses (Response.redirect, fetched ones) have immutable headers: copy them.
      const res = new Response(c.res.body, c.res);
      for (const [name, value] of set) res.headers.set(name, value);
      c.res = res;
    }
  };
}
