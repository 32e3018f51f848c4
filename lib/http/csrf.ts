/**
 * Cross-site request forgery protection for state-changing requests
 * (`POST`, `PUT`, `PATCH`, `DELETE`), from the headers browsers always send:
 * `Origin` and `Sec-Fetch-Site`. No hidden form token is needed, so the
 * no-JavaScript forms keep working from Lantern's own pages.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Options of {@linkcode csrf}. */
export interface CsrfOptions {
  /** Other origins allowed to send requests (`LANTERN_CORS_ORIGINS`); `*` allows any. */
  origins?: readonly string[];
  /**
   * Whether an access token is configured. Then a request without `Origin`
   * and `Sec-Fetch-Site` (not a browser's) must carry a bearer token, so a
   * session cookie alone is never enough without proof of where it came from.
   */
  tokenRequired?: boolean;
}

/** Whether `origin` names the same host the request was sent to. */
function sameOrigin(origin: string, requestUrl: string, host: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin === "null") return false;
  const url = new URL(requestUrl);
  if (parsed.origin === url.origin) return true;
  // Behind a TLS-terminating proxy the server may see http:// for an https:// page.
  return parsed.host === (host ?? url.host) && (parsed.protocol === "https:" || parsed.protocol === "http:");
}

/**
 * A middleware that refuses (403, JSON) a state-changing request a browser
 * sent from another site:
 *
 * - with an `Origin` header, it must be this server's origin or an allowed one;
 * - with `Sec-Fetch-Site`, it must be `same-origin` or `none` (typed by the user),
 *   unless the `Origin` is allowed;
 * - with neither (curl, servers), it passes when it carries a bearer token,
 *   when no token is configured, or when it has no cookie (the auth check
 *   then answers 401); a cookie alone is not enough.
 *
 * A request with an `Authorization` header also passes: browsers only send
 * one cross-origin after a CORS preflight, which only allowed origins pass,
 * and the auth middleware checks the token itself.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { csrf } from "./csrf.ts";
 * const app = new Hono();
 * app.use(csrf());
 * app.post("/", (c) => c.text("ok"));
 * const res = await app.request("http://lantern.test/", { method: "POST", headers: { origin: "https://evil.test" } });
 * console.log(res.status); // 403
 * ```
 */
export function csrf(options: CsrfOptions = {}): MiddlewareHandler {
  const origins = options.origins ?? [];
  const tokenRequired = options.tokenRequired ?? false;
  const allowed = (origin: string) => origins.includes("*") || origins.includes(origin);
  return async (c, next) => {
    if (!UNSAFE.has(c.req.method)) return await next();
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site")?.toLowerCase();
    const bearer = /^bearer\s/i.test(c.req.header("authorization") ?? "");
    if (bearer) return await next();
    const siteOk = site === undefined || site === "same-origin" || site === "none";
    if (origin !== undefined) {
      if (allowed(origin)) return await next();
      // A page under a no-referrer policy sends "Origin: null" even to itself; the fetch metadata still tells.
      if (origin === "null" && site === "same-origin") return await next();
      // Both headers must agree: a same-host Origin with a cross-site fetch means another scheme.
      if (sameOrigin(origin, c.req.url, c.req.header("host")) && siteOk) return await next();
      throw forbidden(`Requests from "${origin.slice(0, 100)}" are not allowed to change anything here.`);
    }
    if (site !== undefined) {
      if (siteOk) return await next();
      throw forbidden(`A ${site.slice(0, 20)} request is not allowed to change anything here.`);
    }
    // Only a cookie is sent without being asked for; without one, the auth check answers.
    if (tokenRequired && c.req.header("cookie") !== undefined) {
      throw forbidden("Send the token in an Authorization header to change anything from outside a browser.");
    }
    return await next();
  };
}

function forbidden(message: string): HttpError {
  return new HttpError(403, "cross_site_request", message);
}
