/**
 * Caps on open event streams, per client and in total. A request for a stream
 * reserves a slot before any work happens (so a refused chat-stream starts no
 * run); the slot is held until the response body ends, errors or is
 * cancelled because the client went away.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { HttpError } from "../http_error.ts";
import { clientKey } from "./client.ts";

/** Options of a {@linkcode StreamCounter}. */
export interface StreamCounterOptions {
  /** Streams one client may hold open; 0 means no limit. */
  perClient: number;
  /** Streams open in all; 0 means no limit. */
  total: number;
}

/**
 * Counts open streams per client and in total.
 *
 * @example
 * ```ts
 * import { StreamCounter } from "./stream_limit.ts";
 * const streams = new StreamCounter({ perClient: 1, total: 10 });
 * const release = streams.reserve("10.0.0.1");
 * console.log(typeof release, streams.open); // function 1
 * try { streams.reserve("10.0.0.1"); } catch (e) { console.log((e as { status: number }).status); } // 429
 * release();
 * console.log(streams.open); // 0
 * ```
 */
export class StreamCounter {
  /** Streams one client may hold; 0 means no limit. */
  readonly perClient: number;
  /** Streams open in all; 0 means no limit. */
  readonly total: number;
  #byClient = new Map<string, number>();
  #open = 0;

  /** A counter with the given caps. */
  constructor(options: StreamCounterOptions) {
    this.perClient = options.perClient;
    this.total = options.total;
  }

  /** Streams open now. */
  get open(): number {
    return this.#open;
  }

  /** Clients holding at least one stream. */
  get clients(): number {
    return this.#byClient.size;
  }

  /**
   * Takes a slot for `client` and returns its release (safe to call twice),
   * or throws 503 when the server is full and 429 when the client is.
   */
  reserve(client: string): () => void {
    const held = this.#byClient.get(client) ?? 0;
    if (this.total > 0 && this.#open >= this.total) {
      throw new HttpError(
        503,
        "too_many_streams",
        `The server has ${this.total} event streams open, its limit; try again shortly.`,
        { "retry-after": "5" },
      );
    }
    if (this.perClient > 0 && held >= this.perClient) {
      throw new HttpError(
        429,
        "too_many_streams",
        `You have ${held} event streams open, the limit per client; close one and try again.`,
        { "retry-after": "5" },
      );
    }
    return this.hold(client);
  }

  /** Takes a slot for `client` without checking the caps; returns its release. */
  hold(client: string): () => void {
    this.#byClient.set(client, (this.#byClient.get(client) ?? 0) + 1);
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
      const left = (this.#byClient.get(client) ?? 1) - 1;
      if (left <= 0) this.#byClient.delete(client);
      else this.#byClient.set(client, left);
    };
  }
}

/**
 * A response body that calls `onClose` once when it ends, errors, or is
 * cancelled. It pulls one chunk per read (high-water mark 0), so it adds no
 * buffering in front of a slow reader.
 */
export function watchBody(body: ReadableStream<Uint8Array>, onClose: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClose();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          close();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        close();
      }
    },
    async cancel(reason) {
      close();
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/** Options of {@linkcode streamLimit}. */
export interface StreamLimitOptions {
  counter: StreamCounter;
  /** Which requests ask for a stream (reserved before the handler runs). */
  isStreamRequest: (method: string, path: string) => boolean;
}

/**
 * A middleware that refuses a stream request when its client or the server
 * is at its cap (429 or 503, JSON, with `Retry-After`) and otherwise holds a
 * slot until the event-stream body closes. Any other event-stream response is
 * counted too, without being refused.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { StreamCounter, streamLimit } from "./stream_limit.ts";
 * const counter = new StreamCounter({ perClient: 5, total: 100 });
 * const app = new Hono();
 * app.use(streamLimit({ counter, isStreamRequest: (_m, path) => path.endsWith("/events") }));
 * app.get("/events", (c) => c.body("data: hi\n\n", 200, { "content-type": "text/event-stream" }));
 * const res = await app.request("/events");
 * console.log(counter.open); // 1
 * await res.text();
 * console.log(counter.open); // 0
 * ```
 */
export function streamLimit(options: StreamLimitOptions): MiddlewareHandler {
  const { counter, isStreamRequest } = options;
  return async (c, next) => {
    const client = clientKey(c);
    let release: (() => void) | null = isStreamRequest(c.req.method, c.req.path)
      ? counter.reserve(client)
      : null;
    try {
      await next();
    } catch (error) {
      release?.();
      throw error;
    }
    const res = c.res;
    const isStream = (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
    if (!isStream || !res.body) {
      release?.();
      return;
    }
    // Not a stream route we know of: count it, but never refuse it this late.
    release ??= counter.hold(client);
    c.res = new Response(watchBody(res.body, release), res);
  };
}
