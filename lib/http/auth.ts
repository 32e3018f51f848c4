/**
 * Access control with `LANTERN_TOKEN`: a bearer token for API clients, and a
 * signed, expiring session cookie for the browser (an `EventSource` cannot
 * send headers). The cookie never holds the token: it is
 * `<expiry>.<nonce>.<HMAC-SHA-256>` under a key derived from the token with
 * HKDF, so changing the token signs everyone out. With a KV, each session's
 * nonce is also stored (`["sessions", nonce]`, expiring with it), so signing
 * out revokes that cookie for good.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";
import { clientKey } from "./client.ts";
import { type RateLimiter, tooManyRequests } from "./rate_limit.ts";

/** The name of the session cookie. */
export const SESSION_COOKIE = "lantern_session";
/** Where the sign-in page lives. */
export const SIGN_IN_PATH = "/sign-in";

const encoder = new TextEncoder();

/**
 * Whether two byte arrays are equal, in time that depends only on their
 * lengths (Deno's Web Crypto has no `timingSafeEqual`).
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./auth.ts";
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * console.log(timingSafeEqual(bytes("abc"), bytes("abc")), timingSafeEqual(bytes("abc"), bytes("abd"))); // true false
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

interface Keys {
  /** Signs session cookies; derived from the token. */
  session: CryptoKey;
  /** Hashes tokens before comparing them; random per process. */
  compare: CryptoKey;
  /** HMAC of the real token under `compare`. */
  expected: Uint8Array;
}

/** Options of an {@linkcode Authenticator}. */
export interface AuthenticatorOptions {
  /** How long a session lasts (ms). */
  sessionTtlMs: number;
  /** The clock, in ms (for tests). Default `Date.now`. */
  now?: () => number;
  /**
   * Where live sessions are kept (`["sessions", nonce]`). Without one, a
   * session stays valid until it expires even after sign-out.
   */
  kv?: Deno.Kv;
}

const SESSION_PATTERN = /^(\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Checks tokens and issues and checks session cookies for one token.
 *
 * @example
 * ```ts
 * import { Authenticator } from "./auth.ts";
 * const auth = new Authenticator("correct horse battery staple", { sessionTtlMs: 60_000 });
 * console.log(await auth.checkToken("correct horse battery staple"), await auth.checkToken("guess")); // true false
 * const session = await auth.issueSession();
 * console.log(await auth.verifySession(session), await auth.verifySession(session + "x")); // true false
 * ```
 */
export class Authenticator {
  /** How long a session lasts (ms). */
  readonly sessionTtlMs: number;
  #token: string;
  #now: () => number;
  #kv: Deno.Kv | null;
  #keys: Promise<Keys> | null = null;

  /** An authenticator for `token`. Keys are derived on first use. */
  constructor(token: string, options: AuthenticatorOptions) {
    this.#token = token;
    this.sessionTtlMs = options.sessionTtlMs;
    this.#now = options.now ?? Date.now;
    this.#kv = options.kv ?? null;
  }

  #derive(): Promise<Keys> {
    return this.#keys ??= (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(this.#token), "HKDF", false, [
        "deriveKey",
      ]);
      const session = await crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode("lantern"),
          info: encoder.encode("lantern session cookie v1"),
        },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
      const compare = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const expected = new Uint8Array(await crypto.subtle.sign("HMAC", compare, encoder.encode(this.#token)));
      return { session, compare, expected };
    })();
  }

  /**
   * Whether `candidate` is the token. Both are hashed with a random key first
   * and the hashes compared in constant time, so neither the content nor the
   * length of the token leaks through timing.
   */
  async checkToken(candidate: string): Promise<boolean> {
    const keys = await this.#derive();
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", keys.compare, encoder.encode(candidate)));
    return timingSafeEqual(mac, keys.expected);
  }

  async #sign(payload: string): Promise<Uint8Array> {
    const keys = await this.#derive();
    return new Uint8Array(await crypto.subtle.sign("HMAC", keys.session, encoder.encode(`v1.${payload}`)));
  }

  /** A new session value: `<expiry ms>.<random nonce>.<signature>` (stored in the KV, if any). */
  async issueSession(): Promise<string> {
    const expires = this.#now() + this.sessionTtlMs;
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const payload = `${expires}.${nonce}`;
    await this.#kv?.set(["sessions", nonce], { expires }, { expireIn: this.sessionTtlMs });
    return `${payload}.${base64url(await this.#sign(payload))}`;
  }

  /** The nonce of a session value with a valid, unexpired signature, or null. */
  async #check(value: string): Promise<string | null> {
    if (value.length > 200) return null;
    const match = SESSION_PATTERN.exec(value);
    if (!match) return null;
    const [, expires, nonce, signature] = match;
    // Compared as text, so a second spelling of the same bytes (base64's spare bits) is refused too.
    const expected = base64url(await this.#sign(`${expires}.${nonce}`));
    const ok = timingSafeEqual(encoder.encode(expected), encoder.encode(signature!));
    const now = this.#now();
    return ok && Number(expires) > now && Number(expires) <= now + this.sessionTtlMs ? nonce! : null;
  }

  /**
   * Whether a session value was issued here, for this token, has not expired
   * and (with a KV) has not been revoked.
   */
  async verifySession(value: string): Promise<boolean> {
    const nonce = await this.#check(value);
    if (nonce === null) return false;
    return this.#kv === null || (await this.#kv.get(["sessions", nonce])).value !== null;
  }

  /** Ends a session for good (sign-out): its cookie is refused from now on. */
  async revokeSession(value: string): Promise<void> {
    const nonce = await this.#check(value);
    if (nonce !== null) await this.#kv?.delete(["sessions", nonce]);
  }

  /** The `Set-Cookie` value that stores a session in the browser. */
  sessionCookie(value: string): string {
    const maxAge = Math.floor(this.sessionTtlMs / 1000);
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
  }

  /** The `Set-Cookie` value that removes the session. */
  clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
  }
}

/** The value of one cookie of a request, or undefined. */
export function readCookie(header: string | undefined | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

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
