/**
 * `/healthz` and `/readyz`: open without a token, answered before every
 * other check, and `/readyz` turns 503 (JSON) once the server is shutting
 * down or KV cannot be read.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { checkReady } from "../lib/ops/health.ts";
import { createLantern } from "../lib/server.ts";
import { startServer, TEST_ENV } from "./helpers.ts";

Deno.test("health: /healthz and /readyz answer without the token, even from another site", async () => {
  await using server = await startServer({ LANTERN_TOKEN: "a-long-enough-test-token", LANTERN_LIMITS: "on" });
  const denied = await fetch(`${server.url}/api/projects`);
  assert.equal(denied.status, 401, "the API itself needs the token");
  await denied.body?.cancel();
  for (const path of ["/healthz", "/readyz"]) {
    const res = await fetch(`${server.url}${path}`, { headers: { origin: "https://elsewhere.example" } });
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", "security headers still apply");
    const body = await res.json();
    assert.equal(body.status, path === "/healthz" ? "ok" : "ready");
  }
});

Deno.test("health: /readyz is 503 with a JSON error once the server shuts down", async () => {
  const lantern = await createLantern(loadConfig(TEST_ENV));
  const ready = await lantern.fetch(new Request("http://127.0.0.1/readyz"));
  assert.equal(ready.status, 200);
  await ready.body?.cancel();
  await lantern.close(0);
  const res = await lantern.fetch(new Request("http://127.0.0.1/readyz"));
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    error: { code: "not_ready", message: "The server is shutting down." },
  });
  const alive = await lantern.fetch(new Request("http://127.0.0.1/healthz"));
  assert.equal(alive.status, 200, "still alive while it stops");
  await alive.body?.cancel();
});

Deno.test("health: checkReady says when KV cannot be read", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close();
  const result = await checkReady(kv, new AbortController().signal);
  assert.equal(result.ready, false);
  assert.match(result.reason ?? "", /^KV cannot be read: /);
});
