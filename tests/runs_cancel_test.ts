/**
 * Stopping runs: at each of the eight steps, twice, after the end, with an
 * engine that ignores the signal, and while the reply is being saved; and a
 * chat-stream client that hangs up (the run goes on).
 */

import assert from "node:assert/strict";
import { type Message, type RunRecord, type StepName, STEPS } from "../lib/protocol.ts";
import { RETAIN_MS } from "../lib/runs/registry.ts";
import { call, chatStream, createProject, readEvents, within } from "./helpers.ts";
import {
  drain,
  eventually,
  follow,
  gatedTokens,
  openEvents,
  plain,
  readUntil,
  runRecord,
  startCustomServer,
  startRun,
  startRunsServer,
  stepStart,
  TestEngine,
} from "./runs_helpers.ts";

interface CancelBody {
  runId: string;
  status: string;
  run: RunRecord;
}

Deno.test("cancel at each step ends the run with a terminal cancelled event and records it", async () => {
  // The engine holds each run in the step under test until its signal aborts:
  // the cancel lands inside that step however loaded the machine is.
  let holdAt: StepName = "start";
  const engine = new TestEngine({
    pace: (step, signal) =>
      step !== holdAt ? Promise.resolve() : new Promise<void>((_, reject) => {
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  });
  await using server = await startCustomServer({}, { engine });
  const project = await createProject(server.url);
  for (const step of STEPS) {
    holdAt = step;
    const run = await startRun(server.url, project.id, `Remember that step ${step} can be stopped`);
    const res = await openEvents(server.url, run.eventsUrl);
    const { events, rest } = await readUntil(res, stepStart(step));
    const cancel = await call<CancelBody>(`${server.url}${run.cancelUrl}`, { method: "POST" });
    events.push(...await drain(rest));

    // The run stopped inside the step: the step never ended, and the event names it.
    const terminal = events.at(-1)!;
    assert.equal(terminal.type, "cancelled", `${step}: the stream ends with the cancelled event`);
    assert.equal(terminal.type === "cancelled" && terminal.cancelled.step, step);
    assert.ok(
      !events.some((e) => e.type === "progress" && e.progress.step === step && e.progress.phase === "end"),
    );
    assert.equal(events.filter((e) => e.type === "cancelled").length, 1);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));

    assert.equal(cancel.status, 200, step);
    assert.equal(cancel.body.status, "cancelled");
    assert.equal(cancel.body.runId, run.runId);
    assert.equal(cancel.body.run.status, "cancelled");
    assert.equal(cancel.body.run.error?.code, "cancelled");
    assert.equal(cancel.body.run.error?.step, step);
    assert.equal(cancel.body.run.lastSeq, terminal.seq);

    // Idempotent: a second cancel answers 200 with the final status.
    const again = await call<CancelBody>(`${server.url}${run.cancelUrl}`, { method: "POST" });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "cancelled");
    assert.deepEqual(again.body.run, cancel.body.run);

    const record = await runRecord(server.url, project.id, run.runId);
    assert.equal(record.status, "cancelled");
    assert.equal(record.result, null);
    // The log ends with the same event, for anyone who follows later.
    const replay = await follow(server.url, run.eventsUrl);
    assert.deepEqual(replay.events, plain(events));
  }

  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.equal(messages.body.length, STEPS.length, "the user's messages are kept, and there are no replies");
  for (const message of messages.body) {
    assert.equal(message.role, "user");
    assert.equal(message.status, "cancelled");
  }
  const runs = await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.deepEqual(runs.body.map((r) => r.status), STEPS.map(() => "cancelled"));
});

Deno.test("a cancel after the end answers 200 with the final status and changes nothing", async () => {
  await using server = await startRunsServer();
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that the build is green");
  const done = await runRecord(server.url, project.id, run.runId, 10);
  assert.equal(done.status, "succeeded");
  for (let i = 0; i < 2; i++) {
    const cancel = await call<CancelBody>(`${server.url}${run.cancelUrl}`, { method: "POST" });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, "succeeded");
  }
  assert.deepEqual(await runRecord(server.url, project.id, run.runId), done);
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", undefined], [
    "assistant",
    undefined,
  ]]);
  const replay = await follow(server.url, run.eventsUrl);
  assert.equal(replay.events.at(-1)?.type, "result");
});

Deno.test("cancel ends the run at once even when the engine ignores the signal", async () => {
  // An engine that, at the planning step, ignores its signal and waits for a
  // gate the test opens only once it has the cancelled event: had the run
  // waited for the engine, the test would fail at its deadline.
  const gate = Promise.withResolvers<void>();
  const woke = Promise.withResolvers<void>();
  const engine = new TestEngine({
    pace: (step) => step !== "planning" ? Promise.resolve() : gate.promise.then(() => woke.resolve()),
  });
  await using server = await startCustomServer({}, { engine });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "Remember that stubborn engines exist");
  const res = await openEvents(server.url, run.eventsUrl);
  const { events, rest } = await readUntil(res, stepStart("planning"));
  const cancel = await within(
    "the cancel to answer while the engine ignores its signal",
    call<CancelBody>(`${server.url}${run.cancelUrl}`, { method: "POST" }),
  );
  events.push(...await within("the cancelled event while the engine ignores its signal", drain(rest)));
  const terminal = events.at(-1)!;
  assert.equal(terminal.type, "cancelled");
  assert.equal(terminal.type === "cancelled" && terminal.cancelled.step, "planning");
  assert.equal(cancel.body.status, "cancelled");
  // Now the engine wakes up and goes on; nothing it does reaches the log or the conversation.
  gate.resolve();
  await woke.promise;
  // Closing the registry waits for a stopped run's agent to unwind (its next step would follow now).
  await server.runs.close(0);
  const logged = await server.runs.log.read(run.runId, 0);
  assert.deepEqual(logged, plain(events));
  const messages = await server.stores.messages.list(project.id, 10);
  assert.deepEqual(messages.map((m) => [m.role, m.status]), [["user", "cancelled"]]);
  assert.deepEqual(await server.stores.memories.list(project.id), [], "the plan never ran");
});

/**
 * A server whose runs answer too long for one KV value (the reply's parts are written before the run
 * ends), and whose agent then waits for `go` before it goes on.
 */
async function longReplyServer(go: Promise<void>) {
  const readied = Promise.withResolvers<Message>();
  const long = "All work and no play. ".repeat(4_000);
  const server = await startCustomServer({}, {
    engine: new TestEngine({
      answer: async function* () {
        yield { kind: "token", delta: long };
      },
    }),
    patchStores: (stores) => {
      const prepare = stores.messages.prepare.bind(stores.messages);
      stores.messages.prepare = async (projectId, message) => {
        const prepared = await prepare(projectId, message);
        if (message.role !== "assistant") return prepared;
        readied.resolve(message);
        await go;
        return prepared;
      };
    },
  });
  /** Starts a run with a follower; resolves once its reply's parts are written, with their KV prefix. */
  const startLongRun = async () => {
    const project = await createProject(server.url);
    const run = await startRun(server.url, project.id, "Tell me a long story");
    const follower = follow(server.url, run.eventsUrl);
    const reply = await readied.promise;
    return { project, run, follower, parts: ["parts", "messages", project.id, reply.id] };
  };
  return Object.assign(server, { startLongRun });
}

Deno.test("a run stopped while its long reply is being readied leaves no reply and none of its parts", async () => {
  // The reply's parts are written; the run is cancelled before it can end with them.
  const cancelled = Promise.withResolvers<void>();
  await using server = await longReplyServer(cancelled.promise);
  const { project, run, follower, parts } = await server.startLongRun();
  assert.ok(
    (await server.stores.kv.get([...parts, 0])).value !== null,
    "the long reply's first part is written",
  );
  const cancel = await call<CancelBody>(`${server.url}${run.cancelUrl}`, { method: "POST" });
  assert.equal(cancel.body.status, "cancelled");
  assert.equal((await follower).events.at(-1)?.type, "cancelled");
  cancelled.resolve();
  // Once the agent has unwound, the parts are removed; the reply itself was never written.
  await eventually("the reply's parts to be removed", async () => {
    for await (const _ of server.stores.kv.list({ prefix: parts })) return undefined;
    return true;
  });
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", "cancelled"]]);
});

Deno.test("a stopped run whose agent is slow to unwind stays in memory until it has tidied up, so a shutdown waits for it", async () => {
  // A step that takes its time to notice the stop.
  const unwound = Promise.withResolvers<void>();
  await using server = await longReplyServer(unwound.promise);
  const { run, follower, parts } = await server.startLongRun();
  await call(`${server.url}${run.cancelUrl}`, { method: "POST" });
  assert.equal((await follower).events.at(-1)?.type, "cancelled");
  // Past a finished run's time in memory (the log is on): this one has not tidied up yet.
  await new Promise((resolve) => setTimeout(resolve, RETAIN_MS.logged + 500));
  assert.equal(server.runs.stats().liveRuns, 1, "the stopped run left memory before it tidied up");
  setTimeout(() => unwound.resolve(), 300);
  await server.runs.close(0);
  for await (const entry of server.stores.kv.list({ prefix: parts })) {
    assert.fail(`a part of the stopped run's reply outlived the shutdown: ${JSON.stringify(entry.key)}`);
  }
});

Deno.test("a chat-stream client that hangs up mid-run: the run goes on, finishes, and can be followed again", async () => {
  // The engine holds its second token until the client is gone: the run is surely still going then.
  const gates = gatedTokens(["The client ", "went away."]);
  await using server = await startCustomServer({}, { engine: gates.engine });
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that the client went away");
  assert.equal(res.status, 200);
  const runId = res.headers.get("x-run-id")!;
  const eventsUrl = res.headers.get("x-events-url")!;
  assert.equal(eventsUrl, `/api/projects/${project.id}/runs/${runId}/events`);
  const seen: unknown[] = [];
  for await (const message of readEvents(res)) {
    seen.push(JSON.parse(message.data));
    if (seen.length === 3) break; // Leaving the loop hangs up.
  }
  assert.equal((await runRecord(server.url, project.id, runId)).status, "running");
  gates.release();

  const record = await runRecord(server.url, project.id, runId, 25);
  assert.equal(record.status, "succeeded");
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  const reply = messages.body.find((m) => m.role === "assistant" && m.runId === runId);
  assert.ok(reply, "the answer is in the conversation");
  assert.equal(reply.content, record.result?.message);
  assert.equal(messages.body.find((m) => m.role === "user")?.status, undefined);

  const again = await follow(server.url, eventsUrl);
  assert.equal(again.status, 200);
  assert.deepEqual(again.events.slice(0, 3), seen);
  assert.equal(again.events.at(-1)?.type, "result");
  assert.deepEqual(again.events.map((e) => e.seq), again.events.map((_, i) => i + 1));
  await eventually(
    "the hung-up stream to be released",
    () => server.runs.stats().streams === 0 || undefined,
  );
});
