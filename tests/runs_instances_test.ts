/**
 * Several instances over one KV: two registries in this process over one KV
 * file (deterministic: each request goes to the instance the test picks),
 * and a `deno serve --parallel` smoke test (isolates in one process).
 * A run started on one instance is followed, resumed, waited for and
 * cancelled from the other.
 */

import assert from "node:assert/strict";
import type { Message, RunRecord } from "../lib/protocol.ts";
import { call, createProject, spawnParallel, type TestServer, within } from "./helpers.ts";
import {
  bulkyEngine,
  type CustomServer,
  drain,
  eventually,
  follow,
  openEvents,
  plain,
  type ReadToEnd,
  readToEnd,
  readUntil,
  resumeFromEverySeqWhileRunning,
  runRecord,
  RUNS_ENV,
  startCustomServer,
  startRun,
  startRunsServer,
  stepStart,
  tempKvPath,
  TestEngine,
} from "./runs_helpers.ts";

/** Waits until an instance holds no stream, watch or remote run. */
async function released(server: TestServer | CustomServer): Promise<void> {
  const runs = "lantern" in server ? server.lantern.runs : server.runs;
  await eventually("the instance to release its streams and watches", () => {
    const stats = runs.stats();
    return stats.streams === 0 && stats.watches === 0 && stats.remoteRuns === 0 ? true : undefined;
  });
}

Deno.test("a run started on instance A is followed from B with every event, and resumes on B from every seq", async () => {
  await using kv = await tempKvPath();
  const env = { LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "15", LANTERN_LOCAL_TOKEN_MS: "4" };
  await using a = await startRunsServer(env);
  await using b = await startRunsServer(env);
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "help");
  const first = await openEvents(b.url, run.eventsUrl);
  assert.equal(first.headers.get("x-instance-id"), b.lantern.runs.instanceId);
  const { unbroken } = await resumeFromEverySeqWhileRunning(b.url, run.eventsUrl, first);
  assert.equal(unbroken.at(-1)?.type, "result");
  // B saw exactly what A's own followers see.
  assert.deepEqual((await follow(a.url, run.eventsUrl)).events, unbroken);
  const record = await runRecord(b.url, project.id, run.runId);
  assert.equal(record.owner, a.lantern.runs.instanceId);
  assert.equal(record.status, "succeeded");
  assert.equal(record.lastSeq, unbroken.length);
  // The run's list reads the same on both.
  const listA = await call<RunRecord[]>(`${a.url}/api/projects/${project.id}/runs`);
  const listB = await call<RunRecord[]>(`${b.url}/api/projects/${project.id}/runs`);
  assert.deepEqual(listB.body, listA.body);
  await released(b);
});

Deno.test("200 followers on the instance that does not own the run share one watch and all get every event", async () => {
  await using kv = await tempKvPath();
  const env = { LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "20", LANTERN_LOCAL_TOKEN_MS: "3" };
  await using a = await startRunsServer(env);
  await using b = await startRunsServer(env);
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "help");
  let mostWatches = 0;
  const sampler = setInterval(() => mostWatches = Math.max(mostWatches, b.lantern.runs.stats().watches), 2);
  let followers;
  try {
    followers = await Promise.all(Array.from({ length: 200 }, () => follow(b.url, run.eventsUrl)));
  } finally {
    clearInterval(sampler);
  }
  const reference = (await follow(a.url, run.eventsUrl)).events;
  assert.equal(reference.at(-1)?.type, "result");
  for (const [i, f] of followers.entries()) {
    assert.equal(f.status, 200, `follower ${i}`);
    assert.deepEqual(f.events, reference, `follower ${i}`);
  }
  assert.ok(mostWatches <= 1, `one watch for the run, saw ${mostWatches}`);
  await released(b);
});

Deno.test("B follows a long run with a small in-memory window, reading what it does not hold from the log", async () => {
  await using kv = await tempKvPath();
  await using a = await startCustomServer({ LANTERN_KV_PATH: kv.path }, { engine: bulkyEngine() });
  await using b = await startCustomServer({ LANTERN_KV_PATH: kv.path }, { maxEventsInMemory: 16 });
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "bulk");
  const live = follow(b.url, run.eventsUrl);
  live.catch(() => {}); // Awaited below; caught now so a failure cannot dangle.
  const reference = (await follow(a.url, run.eventsUrl)).events;
  assert.ok(reference.length > 400);
  assert.deepEqual((await live).events, reference, "followed on B while it ran");
  // After the end: B loads only the log's tail, and reads the rest as followers need it.
  assert.deepEqual((await follow(b.url, run.eventsUrl)).events, reference);
  const middle = Math.floor(reference.length / 2);
  assert.deepEqual((await follow(b.url, run.eventsUrl, { after: middle })).events, reference.slice(middle));
  await eventually("B to release the run", () => b.runs.stats().remoteRuns === 0 || undefined);
});

Deno.test("a cancel sent to B reaches the owner A; followers on both get the cancelled event", async () => {
  await using kv = await tempKvPath();
  // A's engine waits at the planning step until its signal aborts: only a
  // cancel that reaches A ends the run (the test's deadlines fail otherwise).
  const engine = new TestEngine({
    pace: (step, signal) =>
      step !== "planning" ? Promise.resolve() : new Promise<void>((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  });
  await using a = await startCustomServer({ LANTERN_KV_PATH: kv.path }, { engine });
  await using b = await startRunsServer({ LANTERN_KV_PATH: kv.path });
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "Remember that cancels travel through KV");
  // Read to the end at once (and caught), so that nothing dangles while B cancels.
  const onA = openEvents(a.url, run.eventsUrl)
    .then(async (res) => {
      const { events, rest } = await readUntil(res, () => true);
      return { events: [...events, ...await drain(rest)] };
    });
  onA.catch(() => {});
  const { events, rest } = await readUntil(await openEvents(b.url, run.eventsUrl), stepStart("planning"));
  const cancel = await within(
    "the cancel on B to be confirmed by A",
    call<{ status: string; run: RunRecord }>(`${b.url}${run.cancelUrl}`, { method: "POST" }),
  );
  events.push(...await within("the cancelled event on B", drain(rest)));
  assert.equal(cancel.status, 200);
  assert.equal(cancel.headers.get("x-instance-id"), b.lantern.runs.instanceId);
  assert.equal(cancel.body.status, "cancelled");
  assert.equal(cancel.body.run.owner, a.runs.instanceId);

  const terminal = events.at(-1)!;
  assert.equal(terminal.type, "cancelled");
  assert.equal(terminal.type === "cancelled" && terminal.cancelled.step, "planning");
  const eventsA = (await onA).events;
  assert.deepEqual(plain(eventsA), plain(events));

  // A second cancel on either instance answers the final status.
  for (const server of [a, b]) {
    const again = await call<{ status: string }>(`${server.url}${run.cancelUrl}`, { method: "POST" });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "cancelled");
  }
  const messages = await call<Message[]>(`${b.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", "cancelled"]]);
  await released(a);
  await released(b);
});

Deno.test("B long-polls a run that A drives", async () => {
  await using kv = await tempKvPath();
  const env = { LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "40" };
  await using a = await startRunsServer(env);
  await using b = await startRunsServer(env);
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "Remember that long polls work across instances");
  assert.equal((await runRecord(b.url, project.id, run.runId)).status, "running");
  const ended = await runRecord(b.url, project.id, run.runId, 25);
  assert.equal(ended.status, "succeeded");
  assert.deepEqual(ended, await runRecord(a.url, project.id, run.runId));
  await released(b);
});

Deno.test("an instance that shuts down mid-run marks the run interrupted, and B's followers get that event", async () => {
  await using kv = await tempKvPath();
  const env = { LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "300" };
  await using a = await startRunsServer(env);
  await using b = await startRunsServer(env);
  const project = await createProject(a.url);
  const run = await startRun(a.url, project.id, "Remember that shutdowns are graceful");
  const { events, rest } = await readUntil(await openEvents(b.url, run.eventsUrl), stepStart("analyzing"));
  await a.close();
  events.push(...await drain(rest));
  const terminal = events.at(-1)!;
  assert.equal(terminal.type, "error");
  assert.equal(terminal.type === "error" && terminal.error.code, "interrupted");
  const record = await runRecord(b.url, project.id, run.runId);
  assert.equal(record.status, "interrupted");
  const messages = await call<Message[]>(`${b.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", "interrupted"]]);
  await released(b);
});

/**
 * A client with a connection of its own. On Linux each isolate of `deno
 * serve --parallel` listens on its own socket (SO_REUSEPORT) and the kernel
 * picks one for each new connection, from a hash of its addresses: about
 * half of them reach each isolate, once both listen.
 */
function connection(): Deno.HttpClient {
  return Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
}

Deno.test("deno serve --parallel: isolates follow and cancel runs another isolate owns", async () => {
  await using kv = await tempKvPath();
  const server = await spawnParallel({
    ...RUNS_ENV,
    LANTERN_KV_PATH: kv.path,
    LANTERN_LOCAL_PACE_MS: "60",
    LANTERN_LOCAL_TOKEN_MS: "4",
  });
  const clients: Deno.HttpClient[] = [];
  try {
    const project = await createProject(server.url);
    const run = await startRun(server.url, project.id, "help");
    const owner = (await runRecord(server.url, project.id, run.runId)).owner;
    // Open followers on fresh connections until both isolates serve some (both
    // listen: spawnServer waited for them). readToEnd never rejects, so a
    // follower cut while more are opened fails this test with its story below.
    const followers: Promise<ReadToEnd & { instance: string | null }>[] = [];
    const instances = new Set<string>();
    for (let i = 0; i < 30 && (instances.size < 2 || followers.length < 6); i++) {
      const client = connection();
      clients.push(client);
      const res = await openEvents(server.url, run.eventsUrl, { client });
      assert.equal(res.status, 200);
      const instance = res.headers.get("x-instance-id");
      if (instance) instances.add(instance);
      followers.push(readToEnd(res).then((read) => ({ instance, ...read })));
    }
    assert.equal(instances.size, 2, "both isolates served followers");
    assert.ok(instances.has(owner));
    const results = await Promise.all(followers);
    for (const result of results) {
      assert.equal(
        result.error,
        undefined,
        `a follower on ${result.instance} failed: ${result.error}\nserver output:\n${server.output()}`,
      );
    }
    const reference = (await follow(server.url, run.eventsUrl)).events;
    assert.equal(reference.at(-1)?.type, "result");
    for (const result of results) {
      assert.deepEqual(result.events, reference, `follower on ${result.instance}`);
    }
    assert.ok(results.some((r) => r.instance !== owner), "a follower on the other isolate");

    // Cancel from the isolate that does not own the run. A connection is kept
    // for the next request when its response was read whole; should the cancel
    // still land on the owner, it is tried again with a new run.
    let crossed = false;
    for (let attempt = 0; attempt < 5 && !crossed; attempt++) {
      const next = await startRun(server.url, project.id, "help");
      const nextOwner = (await runRecord(server.url, project.id, next.runId)).owner;
      let other: Deno.HttpClient | undefined;
      for (let i = 0; i < 30 && !other; i++) {
        const client = connection();
        clients.push(client);
        const res = await fetch(`${server.url}/api/projects/${project.id}/runs/${next.runId}`, { client });
        await res.text();
        if (res.headers.get("x-instance-id") !== nextOwner) other = client;
      }
      assert.ok(other, "found a connection to the other isolate");
      const res = await fetch(`${server.url}${next.cancelUrl}`, { method: "POST", client: other });
      const cancel = await res.json() as { status: string };
      assert.equal(res.status, 200);
      assert.equal(cancel.status, "cancelled");
      crossed = res.headers.get("x-instance-id") !== nextOwner;
      const replay = await follow(server.url, next.eventsUrl);
      assert.equal(replay.events.at(-1)?.type, "cancelled");
    }
    assert.ok(crossed, "a cancel served by the isolate that does not own the run");
  } finally {
    for (const client of clients) client.close();
    await server.kill("SIGKILL");
  }
});
