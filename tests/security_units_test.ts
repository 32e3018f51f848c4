/**
 * The pieces of the hardening on their own: the rate limiter's bucket
 * arithmetic and bounded memory, the stream counter, the body watcher, the
 * path check and the CSRF rules.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Hono } from "hono";
import { csrf } from "../lib/http/csrf.ts";
import { isCleanPath } from "../lib/http/path_guard.ts";
import { RateLimiter } from "../lib/http/rate_limit.ts";
import { StreamCounter, watchBody } from "../lib/http/stream_limit.ts";

Deno.test("a rate limiter allows a burst, then one request per interval, and forgets idle clients", () => {
  let now = 0;
  const limiter = new RateLimiter({ perMinute: 6, maxKeys: 3, now: () => now });
  for (let i = 0; i < 6; i++) assert.ok(limiter.take("a").ok);
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSeconds: 10 });
  now += 5_000;
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSeconds: 5 });
  now += 5_000;
  assert.ok(limiter.take("a").ok);
  assert.ok(!limiter.take("a").ok);
  limiter.refund("a");
  assert.ok(limiter.take("a").ok);

  // Memory stays bounded: idle (full) buckets go first, then the oldest.
  for (const key of ["b", "c", "d", "e", "f"]) limiter.take(key);
  assert.ok(limiter.size <= 3, `${limiter.size} keys kept`);
  assert.throws(() => new RateLimiter({ perMinute: 0 }), RangeError);
});

Deno.test("a rate limiter never lets more through than its rate allows", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 120 }),
      fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
      (perMinute, gaps) => {
        let now = 0;
        const limiter = new RateLimiter({ perMinute, now: () => now });
        let allowed = 0;
        for (const gap of gaps) {
          now += gap;
          if (limiter.take("k").ok) allowed++;
        }
        // A full bucket to start, then the refill over the time that passed.
        assert.ok(allowed <= perMinute + Math.floor((now * perMinute) / 60_000));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a stream counter releases each slot once, however often release is called", () => {
  const counter = new StreamCounter({ perClient: 2, total: 3 });
  const a = counter.reserve("x");
  const b = counter.reserve("x");
  assert.throws(() => counter.reserve("x"), (e: { status: number }) => e.status === 429);
  const c = counter.reserve("y");
  assert.throws(() => counter.reserve("z"), (e: { status: number }) => e.status === 503);
  a();
  a();
  assert.equal(counter.open, 2);
  b();
  c();
  assert.equal(counter.open, 0);
  assert.equal(counter.clients, 0);
  const unlimited = new StreamCounter({ perClient: 0, total: 0 });
  const releases = Array.from({ length: 100 }, () => unlimited.reserve("x"));
  assert.equal(unlimited.open, 100);
  for (const release of releases) release();
  assert.equal(unlimited.open, 0);
});

Deno.test("a watched body reports its end once: when read to the end, cancelled, or broken", async () => {
  let closes = 0;
  const ended = watchBody(ReadableStream.from([new Uint8Array([1]), new Uint8Array([2])]), () => closes++);
  assert.deepEqual([...new Uint8Array(await new Response(ended).arrayBuffer())], [1, 2]);
  assert.equal(closes, 1);

  let cancelledWith: unknown;
  const source = new ReadableStream<Uint8Array>({ cancel: (reason) => void (cancelledWith = reason) });
  const cancelled = watchBody(source, () => closes++);
  await cancelled.cancel("gone");
  assert.equal(closes, 2);
  assert.equal(cancelledWith, "gone");

  const broken = watchBody(
    new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("broken")) }),
    () => closes++,
  );
  await assert.rejects(new Response(broken).arrayBuffer());
  assert.equal(closes, 3);
});

Deno.test("a watched body reads ahead of a slow reader by nothing: one pull per read", async () => {
  let pulls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(1024));
    },
  }, { highWaterMark: 0 });
  const reader = watchBody(source, () => {}).getReader();
  // A stream schedules its pulls with promise jobs, and every promise job runs
  // before the next timer fires: after one macrotask, any pull a read (or the
  // stream's creation) set off has happened, however slow the machine.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  await settle();
  assert.equal(pulls, 0, "nothing is pulled before the reader asks");
  for (let i = 1; i <= 3; i++) {
    await reader.read();
    await settle();
    assert.equal(pulls, i, `after ${i} reads`);
  }
  await reader.cancel();
});

Deno.test("the path check refuses dot segments and control characters in any spelling", () => {
  for (
    const path of [
      "/static/../deno.json",
      "/static/./styles.css",
      "/static/%2e%2e/deno.json",
      "/static/%2E./deno.json",
      "/static/.%2e/deno.json",
      "/static/..%5cdeno.json",
      "/static/..\\deno.json",
      "/static%2f..%2fapi%2fprojects",
      "/static/%2E%2E%2Fdeno.json",
      "/..",
      "/api/projects/%00",
      "/api/projects/a%0d%0aSet-Cookie:x",
      "/api/projects/a%7f",
      `/${"a".repeat(3000)}`,
    ]
  ) assert.ok(!isCleanPath(path), path);
  for (
    const path of [
      "/",
      "/static/styles.css",
      "/static/islands/chunk-ABC.js",
      "/api/projects/a..b",
      "/a/.well-known",
    ]
  ) assert.ok(isCleanPath(path), path);
});

Deno.test("the CSRF check passes safe methods and allowed origins, and refuses the rest", async () => {
  const app = new Hono();
  app.onError((error) =>
    new Response(error.message, { status: (error as { status?: number }).status ?? 500 })
  );
  app.use(csrf({ origins: ["https://app.example"], tokenRequired: true }));
  app.all("/", (c) => c.text("ok"));
  const status = async (method: string, headers: Record<string, string>) =>
    (await app.request("http://lantern.test/", { method, headers })).status;
  assert.equal(await status("GET", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }), 200);
  assert.equal(await status("HEAD", { origin: "https://evil.example" }), 200);
  assert.equal(await status("POST", { origin: "https://app.example", "sec-fetch-site": "cross-site" }), 200);
  assert.equal(await status("POST", { origin: "http://lantern.test", "sec-fetch-site": "same-origin" }), 200);
  assert.equal(await status("POST", { authorization: "Bearer x", origin: "https://evil.example" }), 200);
  assert.equal(await status("POST", {}), 200);
  assert.equal(await status("POST", { cookie: "lantern_session=x" }), 403);
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    assert.equal(await status(method, { origin: "https://evil.example" }), 403, method);
  }
});
