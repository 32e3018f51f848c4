/**
 * The durable-run API over HTTP: start (202), follow (replay then live, then
 * close), `retry:`, `Last-Event-ID` and `?lastEventId=`, 204 after the end,
 * the run list and record, the `?wait=` long-poll, the TTL, and that nothing
 * stays open once clients hang up.
 */

import assert from "node:assert/strict";
import { sleep } from "../lib/agent/sleep.ts";
import { type ErrorBody, type Message, type RunRecord, type RunStarted, STEPS } from "../lib/protocol.ts";
import { call, createProject, type TestServer } from "./helpers.ts";
import {
  eventually,
  follow,
  openEvents,
  plain,
  readUntil,
  runRecord,
  startCustomServer,
  startRun,
  startRunsServer,
  TestEngine,
} from "./runs_helpers.ts";

/** Waits until the registry holds no stream, timer or watch. */
async function settled(server: TestServer): Promise<void> {
  await eventually("the registry to release every stream and watch", () => {
    const stats = server.lantern.runs.stats();
    return stats.streams === 0 && stats.streamTimers === 0 && stats.watches === 0 && stats.remoteRuns === 0
      ? true
      : undefined;
  });
}

Deno.test("POST /runs answers 202 with the run's URLs and the run starts at once", async () => {
  await using server = await startRunsServer();
  const project = await createProject(server.url);
  const res = await call<RunStarted>(`${server.url}/api/projects/${project.id}/runs`, {
    body: { message: "Remember that the launch is on May 3" },
  });
  assert.equal(res.status, 202);
  const base = `/api/projects/${project.id}/runs/${res.body.runId}`;
  assert.deepEqual(res.body, {
    runId: res.body.runId,
    eventsUrl: `${base}/events`,
    cancelUrl: `${base}/cancel`,
  });
  assert.equal(res.headers.get("location"), base);
  // It runs without anyone following it.
  const record = await runRecord(server.url, project.id, res.body.runId, 10);
  assert.equal(record.status, "succeeded");
  assert.ok(record.result && record.result.message.length > 0);
});

Deno.test("GET eventsUrl replays from the start, follows live, and closes after the terminal event", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "30", LANTERN_LOCAL_TOKEN_MS: "5" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  // Connect once the run is under way, so that part is replayed and part is live.
  const seen = await eventually("the run to emit a few events", async () => {
    const record = await runRecord(server.url, project.id, run.runId);
    return record.lastSeq >= 3 ? record : undefined;
  });
  assert.equal(seen.status, "running");
  const res = await openEvents(server.url, run.eventsUrl);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache, no-transform");
  const { events, rest } = await readUntil(res, () => true);
  events.push(...await Array.fromAsync(rest));
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), "seqs run 1, 2, 3… without a gap");
  assert.equal(events.at(-1)?.type, "result");
  assert.ok(events.length > seen.lastSeq, "events emitted after the connection arrived live");
  assert.ok(events.every((e) => e.runId === run.runId));
  const record = await runRecord(server.url, project.id, run.runId);
  assert.equal(record.lastSeq, events.length);

  // A finished run replays the same events and closes.
  const again = await follow(server.url, run.eventsUrl);
  assert.equal(again.status, 200);
  assert.deepEqual(again.events, plain(events));
  await settled(server);
});

Deno.test("an event stream sends one retry hint, then id and data for each event", async () => {
  await using server = await startRunsServer({ LANTERN_RETRY_MS: "1500" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that tea is at 4");
  await runRecord(server.url, project.id, run.runId, 10);
  const text = await (await openEvents(server.url, run.eventsUrl)).text();
  assert.equal(text.match(/^retry:/gm)?.length, 1, "exactly one retry line");
  assert.ok(text.startsWith("retry: 1500\n\n"), "the hint comes first");
  const frames = text.slice("retry: 1500\n\n".length).split("\n\n").filter(Boolean);
  frames.forEach((frame, i) => {
    const lines = frame.split("\n");
    assert.equal(lines.length, 2, `frame ${i + 1} has an id line and one data line`);
    assert.equal(lines[0], `id: ${i + 1}`);
    assert.equal(JSON.parse(lines[1]!.slice("data: ".length)).seq, i + 1);
  });
  // The chat-stream response is not for EventSource: no retry hint there.
  const stream = await fetch(`${server.url}/api/projects/${project.id}/chat-stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: "help" }),
  });
  assert.equal((await stream.text()).match(/^retry:/gm), null);
});

Deno.test("Last-Event-ID and ?lastEventId resume after that seq; after the terminal seq the answer is 204", async () => {
  await using server = await startRunsServer();
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that the demo is on Friday");
  await runRecord(server.url, project.id, run.runId, 10);
  const full = await follow(server.url, run.eventsUrl);
  const last = full.events.length;
  assert.ok(last > 10);

  const byHeader = await follow(server.url, run.eventsUrl, { after: 5, via: "header" });
  assert.deepEqual(byHeader.events, full.events.slice(5));
  const byQuery = await follow(server.url, run.eventsUrl, { after: 7, via: "query" });
  assert.deepEqual(byQuery.events, full.events.slice(7));

  // The header wins over the parameter (an EventSource reconnecting sends both).
  const res = await fetch(`${server.url}${run.eventsUrl}?lastEventId=2`, {
    headers: { "last-event-id": "9" },
  });
  const both = (await res.text()).match(/^id: \d+$/gm);
  assert.equal(both?.[0], "id: 10");

  for (const after of [last, last + 5]) {
    const done = await openEvents(server.url, run.eventsUrl, { after });
    assert.equal(done.status, 204, `after ${after}`);
    assert.equal(await done.text(), "");
  }

  const bad = await call<ErrorBody>(`${server.url}${run.eventsUrl}?lastEventId=abc`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "invalid_last_event_id");
  await settled(server);
});

Deno.test("unknown runs, and runs of another project, answer 404", async () => {
  await using server = await startRunsServer();
  const project = await createProject(server.url);
  const other = await createProject(server.url, "Other");
  const run = await startRun(server.url, project.id, "help");
  await runRecord(server.url, project.id, run.runId, 10);
  const unknown = "0".repeat(37);
  for (
    const path of [
      `/api/projects/${project.id}/runs/${unknown}`,
      `/api/projects/${project.id}/runs/${unknown}/events`,
      `/api/projects/${other.id}/runs/${run.runId}`,
      `/api/projects/${other.id}/runs/${run.runId}/events`,
    ]
  ) {
    const res = await call<ErrorBody>(`${server.url}${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(res.body.error.code, "run_not_found", path);
  }
  for (
    const path of [
      `/api/projects/${project.id}/runs/${unknown}`,
      `/api/projects/${other.id}/runs/${run.runId}`,
    ]
  ) {
    const res = await call<ErrorBody>(`${server.url}${path}/cancel`, { method: "POST" });
    assert.equal(res.status, 404, path);
    assert.equal(res.body.error.code, "run_not_found");
  }
});

Deno.test("GET /runs lists runs newest first with their status; GET /runs/:runId has status, message, timings and result", async () => {
  // An engine that plans a tool that does not exist when asked to: the plan is invalid.
  const engine = new TestEngine({
    plan: (ctx) => ctx.message === "Please fail" ? [{ tool: "no_such_tool", args: {} }] : undefined,
    pace: (step, signal) => sleep(step === "analyzing" ? pace : 0, signal),
  });
  let pace = 0;
  await using server = await startCustomServer({}, { engine });
  const project = await createProject(server.url);
  const ok = await startRun(server.url, project.id, "Remember that the office opens at 9");
  await runRecord(server.url, project.id, ok.runId, 10);
  const failed = await startRun(server.url, project.id, "Please fail");
  await runRecord(server.url, project.id, failed.runId, 10);
  pace = 60_000;
  const cancelled = await startRun(server.url, project.id, "help");
  const stopped = await call<{ status: string }>(`${server.url}${cancelled.cancelUrl}`, { method: "POST" });
  assert.equal(stopped.status, 200);
  const running = await startRun(server.url, project.id, "help");

  const list = await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.map((r) => [r.id, r.status]), [
    [running.runId, "running"],
    [cancelled.runId, "cancelled"],
    [failed.runId, "failed"],
    [ok.runId, "succeeded"],
  ]);

  const record = await runRecord(server.url, project.id, ok.runId);
  assert.equal(record.id, ok.runId);
  assert.equal(record.projectId, project.id);
  assert.equal(record.status, "succeeded");
  assert.equal(record.message, "Remember that the office opens at 9");
  assert.equal(record.engine, "local");
  assert.ok(Date.parse(record.createdAt) <= Date.parse(record.endedAt!));
  assert.equal(typeof record.durationMs, "number");
  assert.ok(record.durationMs! >= 0);
  assert.deepEqual(record.result?.steps.map((s) => s.step), [...STEPS]);
  assert.equal(record.error, null);
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  const reply = messages.body.find((m) => m.runId === ok.runId && m.role === "assistant");
  assert.ok(reply && reply.content.length > 0);
  assert.equal(record.result?.message, reply.content);
  const events = await follow(server.url, ok.eventsUrl);
  assert.equal(record.lastSeq, events.events.length);
  assert.deepEqual(events.events.at(-1), { ...events.events.at(-1), type: "result", result: record.result });

  const bad = await runRecord(server.url, project.id, failed.runId);
  assert.equal(bad.result, null);
  assert.equal(bad.error?.code, "invalid_plan");
  assert.equal(bad.error?.step, "validation");
  assert.ok(bad.endedAt);
  assert.equal(messages.body.find((m) => m.runId === failed.runId && m.role === "user")?.status, "failed");
  assert.equal(messages.body.filter((m) => m.runId === failed.runId).length, 1, "a failed run has no reply");

  const live = await runRecord(server.url, project.id, running.runId);
  assert.equal(live.status, "running");
  assert.equal(live.endedAt, null);
  assert.equal(live.durationMs, null);
  assert.equal(live.result, null);
  assert.equal(live.owner, server.runs.instanceId);
  await call(`${server.url}${running.cancelUrl}`, { method: "POST" });
});

Deno.test("GET /runs/:runId?wait=N waits for a running run to end, and answers at once otherwise", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "40" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that lunch is at noon");
  assert.equal((await runRecord(server.url, project.id, run.runId)).status, "running");
  const ended = await runRecord(server.url, project.id, run.runId, 25);
  assert.equal(ended.status, "succeeded");
  assert.ok(ended.result && ended.result.message.length > 0);
  // Finished: no waiting at all.
  assert.equal((await runRecord(server.url, project.id, run.runId, 30)).status, "succeeded");

  for (const wait of ["abc", "-1", "1.5"]) {
    const res = await call<ErrorBody>(
      `${server.url}/api/projects/${project.id}/runs/${run.runId}?wait=${wait}`,
    );
    assert.equal(res.status, 400, wait);
    assert.equal(res.body.error.code, "invalid_wait");
  }

  // wait=1 on a run that takes longer answers with the running record after about a second.
  await using slow = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "2000" });
  const slowProject = await createProject(slow.url);
  const long = await startRun(slow.url, slowProject.id, "help");
  assert.equal((await runRecord(slow.url, slowProject.id, long.runId, 1)).status, "running");
  // A client that hangs up mid-wait leaves nothing behind once the wait ends.
  const gone = new AbortController();
  const waiting = fetch(`${slow.url}/api/projects/${slowProject.id}/runs/${long.runId}?wait=30`, {
    signal: gone.signal,
  }).catch((error) => error);
  // The long-poll waits on the run's feed: hang up once it does.
  const { feed, release } = await slow.lantern.runs.open(slowProject.id, long.runId);
  release();
  await eventually("the long-poll to wait on the run", () => feed.waiting > 0 || undefined);
  gone.abort();
  assert.equal((await waiting).name, "AbortError");
  const stopped = await call<{ status: string }>(`${slow.url}${long.cancelUrl}`, { method: "POST" });
  assert.equal(stopped.body.status, "cancelled");
  await settled(slow);
});

Deno.test("after the TTL the events are gone (410 run_expired) and the record stays", async () => {
  await using server = await startRunsServer({ LANTERN_RUN_TTL_MS: "2000" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that the TTL test works");
  await runRecord(server.url, project.id, run.runId, 10);
  const before = await follow(server.url, run.eventsUrl);
  assert.equal(before.status, 200);
  assert.equal(before.events.at(-1)?.type, "result");

  const expired = await eventually("the run's log to expire", async () => {
    const res = await call<ErrorBody>(`${server.url}${run.eventsUrl}`);
    return res.status === 410 ? res : undefined;
  }, 20_000);
  assert.equal(expired.body.error.code, "run_expired");
  // Any Last-Event-ID: the log is gone.
  const resumed = await call<ErrorBody>(`${server.url}${run.eventsUrl}?lastEventId=3`);
  assert.equal(resumed.status, 410);

  const record = await runRecord(server.url, project.id, run.runId);
  assert.equal(record.status, "succeeded");
  const terminal = before.events.at(-1);
  assert.deepEqual(record.result, terminal?.type === "result" ? terminal.result : undefined);
  const list = await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.deepEqual(list.body.map((r) => r.id), [run.runId]);
  // Cancelling an expired run still answers with its final status.
  const cancel = await call<{ status: string }>(`${server.url}${run.cancelUrl}`, { method: "POST" });
  assert.equal(cancel.status, 200);
  assert.equal(cancel.body.status, "succeeded");
  // The KV entries of the log are written with the same TTL: none outlives it by long.
  const kv = server.lantern.stores.kv;
  const head = await kv.get(["run_head", run.runId]);
  assert.ok(head.value === null || (head.value as { expiresAt: number }).expiresAt <= Date.now());
});

Deno.test("streams, timers and watches are released when clients hang up mid-run", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "100", LANTERN_HEARTBEAT_MS: "50" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  const clients = await Promise.all(Array.from({ length: 10 }, () => openEvents(server.url, run.eventsUrl)));
  // Read a little from each (some get a keep-alive while the run paces), then hang up.
  for (const res of clients) {
    const { rest } = await readUntil(res, () => true);
    await rest.return(undefined);
  }
  await settled(server);
  assert.equal(server.lantern.runs.stats().running, 1, "the run goes on without followers");
  const record = await runRecord(server.url, project.id, run.runId, 25);
  assert.equal(record.status, "succeeded");
  await settled(server);
});
