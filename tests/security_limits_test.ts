/**
 * Limits: runs started per client per minute, runs running per project,
 * event streams per client and in total, all answered with a clear 429 or
 * 503 and Retry-After; refused requests start nothing; LANTERN_LIMITS=off
 * turns them off. Clients are told apart by their connection's address.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { createLimits } from "../lib/http/limits.ts";
import type { Project, RunRecord } from "../lib/protocol.ts";
import { call, createProject, startServer, type TestServer } from "./helpers.ts";

/** The limits are on by default; said here so a test environment that turns them off cannot hide them. */
const LIMITS_ON = { LANTERN_LIMITS: "on" };

/** Connection info as Deno.serve passes it, for a client at `hostname`. */
function from(hostname: string): Deno.ServeHandlerInfo<Deno.NetAddr> {
  return { remoteAddr: { transport: "tcp", hostname, port: 50_000 }, completed: Promise.resolve() };
}

function startRun(
  server: TestServer,
  project: Project,
  client = "127.0.0.1",
  path = "runs",
): Promise<Response> {
  return Promise.resolve(server.lantern.fetch(
    new Request(`${server.url}/api/projects/${project.id}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Remember that limits hold" }),
    }),
    from(client),
  ));
}

function follow(server: TestServer, project: Project, runId: string, client: string): Promise<Response> {
  return Promise.resolve(server.lantern.fetch(
    new Request(`${server.url}/api/projects/${project.id}/runs/${runId}/events`),
    from(client),
  ));
}

async function assertRefused(res: Response, status: number, code: string): Promise<void> {
  assert.equal(res.status, status);
  const retryAfter = Number(res.headers.get("retry-after"));
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1,
    `Retry-After is "${res.headers.get("retry-after")}"`,
  );
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

async function runsOf(server: TestServer, project: Project): Promise<RunRecord[]> {
  return (await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`)).body;
}

Deno.test("each client may start LANTERN_RATE_RUNS_PER_MIN runs a minute; refused requests do not count", async () => {
  await using server = await startServer({
    ...LIMITS_ON,
    LANTERN_RATE_RUNS_PER_MIN: "3",
    LANTERN_MAX_RUNS_PER_PROJECT: "0",
  });
  const project = await createProject(server.url);
  // Bad requests to run routes are refused before any work and give their turn back.
  for (let i = 0; i < 5; i++) {
    const bad = await server.lantern.fetch(
      new Request(`${server.url}/api/projects/${project.id}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"message":""}',
      }),
      from("127.0.0.1"),
    );
    await bad.body?.cancel();
    assert.equal(bad.status, 400);
  }
  for (let i = 0; i < 3; i++) {
    const res = await startRun(server, project);
    await res.body?.cancel();
    assert.equal(res.status, 202);
  }
  await assertRefused(await startRun(server, project), 429, "rate_limited");
  await assertRefused(await startRun(server, project, "127.0.0.1", "chat-stream"), 429, "rate_limited");
  await assertRefused(await startRun(server, project, "127.0.0.1", "chat"), 429, "rate_limited");
  const form = await server.lantern.fetch(
    new Request(`${server.url}/projects/${project.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "message=Hello",
    }),
    from("127.0.0.1"),
  );
  assert.equal(form.status, 429);
  await form.body?.cancel();
  assert.equal((await runsOf(server, project)).length, 3, "refused requests started no run");

  // Another client has its own allowance.
  const other = await startRun(server, project, "192.0.2.7");
  await other.body?.cancel();
  assert.equal(other.status, 202);
});

Deno.test("a project may have LANTERN_MAX_RUNS_PER_PROJECT runs going, even when requests race", async () => {
  await using server = await startServer({
    ...LIMITS_ON,
    LANTERN_MAX_RUNS_PER_PROJECT: "2",
    LANTERN_RATE_RUNS_PER_MIN: "0",
    LANTERN_LOCAL_PACE_MS: "200",
  });
  const busy = await createProject(server.url, "Busy");
  const answers = await Promise.all(Array.from({ length: 10 }, () => startRun(server, busy)));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [202, 202, ...Array(8).fill(429)]);
  for (const res of answers) {
    if (res.status === 429) await assertRefused(res, 429, "too_many_runs");
    else await res.body?.cancel();
  }
  assert.equal((await runsOf(server, busy)).length, 2, "refused requests started no run");

  // Another project is not affected; a finished run frees its slot.
  const quiet = await createProject(server.url, "Quiet");
  const elsewhere = await startRun(server, quiet);
  await elsewhere.body?.cancel();
  assert.equal(elsewhere.status, 202);
  const [first] = await runsOf(server, busy);
  const cancelled = await call(`${server.url}/api/projects/${busy.id}/runs/${first!.id}/cancel`, {
    method: "POST",
  });
  assert.equal(cancelled.status, 200);
  const next = await startRun(server, busy);
  await next.body?.cancel();
  assert.equal(next.status, 202);
});

Deno.test("open event streams are capped per client (429) and in total (503); closing one frees it", async () => {
  await using server = await startServer({
    ...LIMITS_ON,
    LANTERN_MAX_STREAMS_PER_CLIENT: "2",
    LANTERN_MAX_STREAMS: "3",
    LANTERN_MAX_RUNS_PER_PROJECT: "0",
    LANTERN_LOCAL_PACE_MS: "200",
  });
  const streams = server.lantern.limits.streams!;
  const project = await createProject(server.url);
  const started = await startRun(server, project, "198.51.100.1");
  const { runId } = await started.json();

  const a1 = await follow(server, project, runId, "10.0.0.1");
  const a2 = await follow(server, project, runId, "10.0.0.1");
  assert.deepEqual([a1.status, a2.status], [200, 200]);
  assert.equal(streams.open, 2);
  await assertRefused(await follow(server, project, runId, "10.0.0.1"), 429, "too_many_streams");
  // A chat-stream over the cap is refused before it starts a run.
  const before = (await runsOf(server, project)).length;
  await assertRefused(await startRun(server, project, "10.0.0.1", "chat-stream"), 429, "too_many_streams");
  assert.equal((await runsOf(server, project)).length, before);

  const b1 = await follow(server, project, runId, "10.0.0.2");
  assert.equal(b1.status, 200);
  await assertRefused(await follow(server, project, runId, "10.0.0.3"), 503, "too_many_streams");

  // A client that goes away gives its slot back.
  await a1.body!.cancel();
  assert.equal(streams.open, 2);
  const a3 = await follow(server, project, runId, "10.0.0.1");
  assert.equal(a3.status, 200);
  for (const res of [a2, b1, a3]) await res.body!.cancel();
  assert.equal(streams.open, 0);
  assert.equal(streams.clients, 0);
});

Deno.test("a stream that ends by itself gives its slot back, over real connections", async () => {
  await using server = await startServer({ ...LIMITS_ON, LANTERN_MAX_STREAMS_PER_CLIENT: "1" });
  const project = await createProject(server.url);
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${server.url}/api/projects/${project.id}/chat-stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"message":"Hello"}',
    });
    assert.equal(res.status, 200, `stream ${i}`);
    assert.match(await res.text(), /"type":"result"/);
  }
  assert.equal(server.lantern.limits.streams!.open, 0);
});

Deno.test("LANTERN_LIMITS=off turns off the run and stream limits, but not the sign-in limit", async () => {
  const limits = createLimits(
    loadConfig({ LANTERN_LIMITS: "off", LANTERN_TOKEN: "limits-off-token-123456" }),
  );
  assert.equal(limits.runs, null);
  assert.equal(limits.projectRuns, null);
  assert.equal(limits.streams, null);
  assert.notEqual(limits.signIn, null);
  assert.throws(() => loadConfig({ LANTERN_LIMITS: "sometimes" }), /LANTERN_LIMITS must be "on" or "off"/);
  assert.throws(
    () => loadConfig({ LANTERN_MAX_STREAMS: "-1" }),
    /LANTERN_MAX_STREAMS must be a whole number/,
  );

  await using server = await startServer({
    LANTERN_LIMITS: "off",
    LANTERN_RATE_RUNS_PER_MIN: "1",
    LANTERN_MAX_RUNS_PER_PROJECT: "1",
    LANTERN_MAX_STREAMS_PER_CLIENT: "1",
    LANTERN_LOCAL_PACE_MS: "200",
  });
  const project = await createProject(server.url);
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => startRun(server, project, "10.0.0.9", "chat-stream")),
  );
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
  for (const res of answers) await res.body?.cancel();
});
