/**
 * Issue 13's connection repros at the HTTP edge: stalled bodies answered 408
 * with `Connection: close`, refused uploads told to stop, `?wait=` long-polls
 * freed the moment their client leaves; and the limits README documents
 * (Deno's own 400s, no header timeout) pinned as they are.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import type { ErrorBody, RunStarted } from "../lib/protocol.ts";
import { createLantern } from "../lib/server.ts";
import { createProject, eventually, startServer, TEST_ENV } from "./helpers.ts";
import { head, rawExchange } from "./hardening_helpers.ts";

function portOf(url: string): number {
  return Number(new URL(url).port);
}

Deno.test("a body that stalls is answered 408 with Connection: close, and serving goes on", async () => {
  await using server = await startServer({ LANTERN_BODY_TIMEOUT_MS: "300" });
  const port = portOf(server.url);
  const host = `127.0.0.1:${port}`;
  for (
    const [what, request] of [
      [
        "a short Content-Length",
        head("POST", "/api/projects", host, { "content-type": "application/json", "content-length": "100" }) +
        '{"name":',
      ],
      [
        "a stalled chunked body",
        head("POST", "/api/projects", host, {
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        }) + '8\r\n{"name":\r\n',
      ],
    ] as const
  ) {
    const answer = await rawExchange(port, request, "", { waitMs: 5_000, untilAnswer: true });
    assert.equal(answer.status, 408, `${what}: ${answer.status} ${answer.body}`);
    assert.equal(answer.headers.get("connection"), "close", what);
    assert.equal((JSON.parse(answer.body) as ErrorBody).error.code, "body_timeout", what);
  }
  assert.deepEqual(await server.lantern.stores.projects.list(), []);
  const res = await fetch(`${server.url}/api/projects`);
  await res.body?.cancel();
  assert.equal(res.status, 200, "still serving");
});

Deno.test("a chat-stream whose body stalls gives back its stream slot at the body deadline", async () => {
  await using server = await startServer({
    LANTERN_LIMITS: "on",
    LANTERN_MAX_STREAMS_PER_CLIENT: "1",
    LANTERN_BODY_TIMEOUT_MS: "300",
  });
  const port = portOf(server.url);
  const project = await createProject(server.url);
  const stalled = await rawExchange(
    port,
    head("POST", `/api/projects/${project.id}/chat-stream`, `127.0.0.1:${port}`, {
      "content-type": "application/json",
      "content-length": "200",
    }) + '{"message":',
    "",
    { untilAnswer: true },
  );
  assert.equal(stalled.status, 408);
  assert.equal(server.lantern.limits.streams!.open, 0, "the slot is free again");
  const res = await fetch(`${server.url}/api/projects/${project.id}/chat-stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: "Hello" }),
  });
  assert.equal(res.status, 200, "the client's one stream is available");
  await res.body?.cancel();
});

Deno.test("a refused upload is told to stop: 413 with Connection: close before the body is read", async () => {
  await using server = await startServer();
  const port = portOf(server.url);
  const answer = await rawExchange(
    port,
    head("POST", "/api/projects", `127.0.0.1:${port}`, {
      "content-type": "application/json",
      "content-length": String(100 * 1024 * 1024),
    }),
    "x".repeat(64 * 1024),
    { untilAnswer: true },
  );
  assert.equal(answer.status, 413);
  assert.equal(answer.headers.get("connection"), "close");
  assert.equal((JSON.parse(answer.body) as ErrorBody).error.code, "body_too_large");

  // A chunked body past the cap is cut off the same way.
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > 4 * 1024 * 1024) return controller.close();
      sent += 65536;
      controller.enqueue(new Uint8Array(65536).fill(0x20));
    },
  });
  const res = await fetch(`${server.url}/api/projects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: endless,
  });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get("connection"), "close");
  await res.body?.cancel();
});

Deno.test("a ?wait= long-poll ends as soon as its client leaves, not after the wait", async () => {
  // A paced run stays running for many seconds; count requests still inside the app.
  const lantern = await createLantern(loadConfig({ ...TEST_ENV, LANTERN_LOCAL_PACE_MS: "3000" }));
  let inFlight = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request, info) => {
    inFlight++;
    try {
      return await lantern.fetch(request, info);
    } finally {
      inFlight--;
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    const project = await createProject(url);
    const started = await fetch(`${url}/api/projects/${project.id}/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Hello there" }),
    });
    const { runId } = (await started.json()) as RunStarted;
    const polls = Array.from({ length: 20 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(new TextEncoder().encode(
        head("GET", `/api/projects/${project.id}/runs/${runId}?wait=30`, `127.0.0.1:${server.addr.port}`),
      ));
      return conn;
    });
    const conns = await Promise.all(polls);
    await eventually("the long-polls to arrive", () => inFlight >= 20, 5_000);
    for (const conn of conns) conn.close();
    // Without watching the client, each would stay for its full 30 s.
    await eventually("every abandoned long-poll to end", () => inFlight === 0, 5_000);
    const record = (await lantern.runs.get(project.id, runId))!;
    assert.equal(record.status, "running", "the run itself goes on");
  } finally {
    await lantern.close(0);
    await server.shutdown();
  }
});

Deno.test("documented limit: Deno answers a huge URL or too many headers itself (empty 400, then closes)", async () => {
  await using server = await startServer();
  const port = portOf(server.url);
  const host = `127.0.0.1:${port}`;
  const cases = [
    ["a 100 KB URL", `GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    [
      "200 headers",
      head(
        "GET",
        "/api/projects",
        host,
        Object.fromEntries(
          Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v"]),
        ),
      ),
    ],
  ] as const;
  for (const [what, request] of cases) {
    const answer = await rawExchange(port, request, "", { waitMs: 5_000 });
    // README, Security: these never reach Lantern, so they are not JSON and carry no security headers.
    assert.equal(answer.status, 400, what);
    assert.equal(answer.body, "", what);
    assert.equal(answer.headers.get("content-security-policy"), null, what);
    assert.ok(answer.closed, `${what}: the connection is closed`);
  }
  const res = await fetch(`${server.url}/api/projects`);
  await res.body?.cancel();
  assert.equal(res.status, 200, "still serving");
});

Deno.test("documented limit: a request head sent slowly is not timed out, and others are still served", async () => {
  await using server = await startServer();
  const port = portOf(server.url);
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await slow.write(new TextEncoder().encode(`GET /api/projects HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`));
    // Others are served while the head is incomplete.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/api/projects`);
      await res.body?.cancel();
      assert.equal(res.status, 200);
    }
    // Deno 2.9 has no header timeout (README): the half-sent head is still waiting, and finishing it is answered.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await slow.write(new TextEncoder().encode("\r\n"));
    const buffer = new Uint8Array(4096);
    const read = await slow.read(buffer);
    assert.ok(read !== null && read > 0, "the slow head was still open and got its answer");
    assert.match(new TextDecoder().decode(buffer.subarray(0, read!)), /^HTTP\/1\.1 200/);
  } finally {
    slow.close();
  }
});
