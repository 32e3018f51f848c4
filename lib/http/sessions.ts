/**
 * Sessions for `LANTERN_TOKEN`: checking a token in constant time, and
 * issuing, checking and revoking the browser's signed, expiring session
 * cookie (an `EventSource` cannot send headers). The cookie never holds the
 * token: it is `<expiry>.<nonce>.<HMAC-SHA-256>` under a key derived from the
 * token with HKDF, so changing the token signs everyone out. With a KV, each
 * session's nonce is also stored (`["sessions", nonce]`, expiring with it),
 * so signing out revokes that cookie for good. The middleware that uses them
 * is lib/http/auth.ts.
 *
 * @module
 */

/** The name of the session cookie. */
export const SESSION_COOKIE = "lantern_session";

const encoder = new TextEncoder();

/**
 * Whether two byte arrays are equal, in time that depends only on their
 * lengths (Deno's Web Crypto has no `timingSafeEqual`).
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./sessions.ts";
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
 * import { Authenticator } from "./sessions.ts";
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
