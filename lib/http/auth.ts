/**
 * Access control with `LANTERN_TOKEN`, at the edge: a middleware that lets
 * a request through with a valid session cookie or bearer token, and the
 * helpers around signing in (where to return, no secret in a redirect).
 * Tokens and sessions themselves are lib/http/sessions.ts.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";
import { clientKey } from "./client.ts";
import { type RateLimiter, tooManyRequests } from "./rate_limit.ts";
import { Authenticator, readCookie, SESSION_COOKIE } from "./sessions.ts";

export {
  Authenticator,
  type AuthenticatorOptions,
  readCookie,
  SESSION_COOKIE,
  timingSafeEqual,
} from "./sessions.ts";

/** Where the sign-in page lives. */
export const SIGN_IN_PATH = "/sign-in";

/** Whether the request carries a valid session cookie. */
export async function hasSession(auth: Authenticator, c: Context): Promise<boolean> {
  const value = readCookie(c.req.header("cookie"), SESSION_COOKIE);
  return value !== undefined && await auth.verifySession(value);
}

/** A local path to return to after signing in, or `/` when `next` is anything else. */
export function safeNext(next: string | undefined | null): string {
  // deno-lint-ignore no-control-regex
  if (!next || !next.startsWith("/") || /^\/[\\/]|[\u0000-\u001f\\]/.test(next) || next.length > 2000) {
    return "/";
  }
  const url = new URL(next, "http://lantern.invalid");
  return url.origin === "http://lantern.invalid" ? url.pathname + url.search : "/";
}

/** Query parameters that carry credentials by convention. */
const SECRET_PARAM =
  /^(?:token|access_token|id_token|auth|authorization|key|api_key|apikey|password|secret|session)$/i;

/**
 * A query string without credentials: no parameter named like one
 * (`token`, `access_token`, `key`, …) and none whose value is the token. A
 * redirect then never echoes a secret into `Location` (and so into logs
 * and browser history).
 *
 * @example
 * ```ts
 * import { Authenticator, withoutSecrets } from "./auth.ts";
 * const auth = new Authenticator("the-real-token-value", { sessionTtlMs: 60_000 });
 * console.log(await withoutSecrets("?tab=2&token=abc&x=the-real-token-value", auth)); // ?tab=2
 * ```
 */
export async function withoutSecrets(search: string, auth: Authenticator): Promise<string> {
  const params = new URLSearchParams(search);
  // Each value costs an HMAC: a query of more parameters than any page uses is dropped whole.
  if ([...params.keys()].length > 50) return "";
  const kept = new URLSearchParams();
  for (const [name, value] of params) {
    if (SECRET_PARAM.test(name) || await auth.checkToken(value)) continue;
    kept.append(name, value);
  }
  const text = kept.toString();
  return text === "" ? "" : `?${text}`;
}

/** Options of {@linkcode requireAuth}. */
export interface RequireAuthOptions {
  /** Null when no token is configured: everything passes. */
  auth: Authenticator | null;
  /** Counts failed attempts per client; shared with the sign-in form. */
  failures: RateLimiter | null;
  /** Paths open without signing in. Default: the sign-in page and `/static/*`. */
  isPublic?: (path: string) => boolean;
}

/** Whether a path belongs to the JSON API. */
export function isApiPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/");
}

const defaultPublic = (path: string) =>
  path === SIGN_IN_PATH || path === "/sign-out" || path.startsWith("/static/");

/**
 * A middleware that lets a request through only with a valid session cookie
 * or `Authorization: Bearer <token>`. API requests without either get 401
 * JSON; pages redirect to the sign-in page (with no credential of the
 * query string in `Location`). The right token always works; a client that
 * has sent too many wrong ones gets 429 with `Retry-After` for the next.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { Authenticator, requireAuth } from "./auth.ts";
 * const app = new Hono();
 * const auth = new Authenticator("s3cret-token-value", { sessionTtlMs: 60_000 });
 * app.use(requireAuth({ auth, failures: null }));
 * app.get("/api/x", (c) => c.json({ ok: true }));
 * console.log((await app.request("/api/x")).status); // 401
 * const res = await app.request("/api/x", { headers: { authorization: "Bearer s3cret-token-value" } });
 * console.log(res.status); // 200
 * ```
 */
export function requireAuth(options: RequireAuthOptions): MiddlewareHandler {
  const { auth, failures, isPublic = defaultPublic } = options;
  return async (c, next) => {
    if (!auth) return await next();
    const path = c.req.path;
    if (isPublic(path)) return await next();
    if (await hasSession(auth, c)) return await next();
    const header = c.req.header("authorization");
    if (header !== undefined) {
      // The right token first: a limited address (a NAT, a proxy) shared with
      // a guesser still gets in. Guessing stays hopeless: tokens are long and
      // random, and every wrong one past the limit is answered 429.
      const match = /^Bearer +(\S.*)$/i.exec(header);
      if (match && await auth.checkToken(match[1]!)) return await next();
      const client = clientKey(c);
      const allowed = failures?.take(client);
      if (allowed && !allowed.ok) {
        throw tooManyRequests(
          allowed.retryAfterSeconds,
          `Too many wrong tokens; try again in ${allowed.retryAfterSeconds} seconds.`,
        );
      }
      throw unauthorized("The token is not right.");
    }
    if (isApiPath(path)) {
      throw unauthorized(
        readCookie(c.req.header("cookie"), SESSION_COOKIE) === undefined
          ? `This API needs the token: send "Authorization: Bearer <token>" or sign in at ${SIGN_IN_PATH}.`
          : `The session is not valid or has expired; sign in again at ${SIGN_IN_PATH}.`,
      );
    }
    const next_ = c.req.method === "GET"
      ? safeNext(path + await withoutSecrets(new URL(c.req.url).search, auth))
      : "/";
    const target = next_ === "/" ? SIGN_IN_PATH : `${SIGN_IN_PATH}?next=${encodeURIComponent(next_)}`;
    await c.req.raw.body?.cancel().catch(() => {});
    return c.redirect(target, 303);
  };
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="Lantern"' });
}
