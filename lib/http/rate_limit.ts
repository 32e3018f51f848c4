/**
 * Per-client rate limits: a token bucket per key, kept in memory (so a limit
 * holds per instance), and a Hono middleware that answers 429 with
 * `Retry-After` when a client is over its limit.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";
import { clientKey } from "./client.ts";

/** Options of a {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** How many requests a key may make per minute (also the burst size). */
  perMinute: number;
  /** How many keys are tracked before idle ones are forgotten. Default 50,000. */
  maxKeys?: number;
  /** The clock, in ms (for tests). Default `Date.now`. */
  now?: () => number;
}

/** The answer of {@linkcode RateLimiter.take}. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: each key holds up to `perMinute` tokens and gets
 * them back evenly over a minute. Memory is bounded by `maxKeys`.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limit.ts";
 * const limiter = new RateLimiter({ perMinute: 2 });
 * console.log(limiter.take("a").ok, limiter.take("a").ok); // true true
 * console.log(limiter.take("a")); // { ok: false, retryAfterSeconds: 30 }
 * console.log(limiter.take("b").ok); // true
 * ```
 */
export class RateLimiter {
  /** Requests per key per minute, and the burst size. */
  readonly perMinute: number;
  #maxKeys: number;
  #now: () => number;
  #buckets = new Map<string, Bucket>();

  /** A limiter allowing `perMinute` per key. */
  constructor(options: RateLimiterOptions) {
    if (!(options.perMinute > 0)) {
      throw new RangeError(`A rate limit must be above 0 per minute, got ${options.perMinute}.`);
    }
    this.perMinute = options.perMinute;
    this.#maxKeys = options.maxKeys ?? 50_000;
    this.#now = options.now ?? Date.now;
  }

  /** How many keys are tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(key: string): Bucket {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#prune();
      bucket = { tokens: this.perMinute, at: now };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    const refill = ((now - bucket.at) * this.perMinute) / 60_000;
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + Math.max(0, refill));
    bucket.at = now;
    return bucket;
  }

  /** Whether `key` has a token left, without taking it. */
  check(key: string): RateDecision {
    const bucket = this.#bucket(key);
    if (bucket.tokens >= 1) return { ok: true };
    return { ok: false, retryAfterSeconds: this.#wait(bucket) };
  }

  /** Takes a token for `key`, or says how long to wait for one. */
  take(key: string): RateDecision {
    const decision = this.check(key);
    if (decision.ok) this.#buckets.get(key)!.tokens -= 1;
    return decision;
  }

  /** Gives back a token taken for a request that turned out not to count. */
  refund(key: string): void {
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.perMinute, bucket.tokens + 1);
  }

  #wait(bucket: Bucket): number {
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.perMinute));
  }

  /** Forgets keys whose bucket is full again, then the oldest if still too many. */
  #prune(): void {
    const now = this.#now();
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000 >= this.perMinute) {
        this.#buckets.delete(key);
      }
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}

/** The 429 a limited client gets. */
export function tooManyRequests(retryAfterSeconds: number, message: string): HttpError {
  return new HttpError(429, "rate_limited", message, { "retry-after": String(retryAfterSeconds) });
}

/** Options of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  limiter: RateLimiter;
  /** Which requests count; all by default. */
  applies?: (method: string, path: string) => boolean;
  /** What the client is told, with the wait in seconds. */
  message?: (retryAfterSeconds: number) => string;
  /** Gives the token back when the answer is a client error (default true). */
  refundClientErrors?: boolean;
}

/**
 * A middleware that takes a token per counted request from the client's
 * bucket and answers 429 with `Retry-After` when there is none. A request
 * refused with another 4xx (bad body, unknown project) gets its token back,
 * so only work that happened counts.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { rateLimit, RateLimiter } from "./rate_limit.ts";
 * const app = new Hono();
 * app.use(rateLimit({ limiter: new RateLimiter({ perMinute: 1 }) }));
 * app.get("/", (c) => c.text("ok"));
 * console.log((await app.request("/")).status, (await app.request("/")).status); // 200 429
 * ```
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { limiter, applies = () => true, refundClientErrors = true } = options;
  const message = options.message ??
    ((s: number) => `Too many requests; try again in ${s} second${s === 1 ? "" : "s"}.`);
  return async (c, next) => {
    if (!applies(c.req.method, c.req.path)) return await next();
    const key = clientKey(c);
    const decision = limiter.take(key);
    if (!decision.ok) throw tooManyRequests(decision.retryAfterSeconds, message(decision.retryAfterSeconds));
    await next();
    const status = c.res.status;
    if (refundClientErrors && status >= 400 && status < 500) limiter.refund(key);
  };
}
