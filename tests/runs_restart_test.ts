/**
 * Runs outlive a crash as `interrupted`: a process killed with SIGKILL
 * mid-run and restarted on the same KV file, and a dead owner that had saved
 * its reply but not its result.
 */

import assert from "node:assert/strict";
import type { Message, RunEvent, RunRecord } from "../lib/protocol.ts";
import { call, createProject, spawnServer, within } from "./helpers.ts";
import {
  eventually,
  follow,
  orphanRecord,
  type Plain,
  plain,
  readUntil,
  runRecord,
  RUNS_ENV,
  startRun,
  startRunsServer,
  stepStart,
  tempKvPath,
} from "./runs_helpers.ts";

function assertInterrupted(events: Plain[], after: number): void {
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => after + i + 1), "no gap, no repeat");
  const terminal = events.at(-1)!;
  assert.equal(terminal.type, "error");
  assert.equal(terminal.type === "error" && terminal.error.code, "interrupted");
  assert.equal(events.filter((e) => e.type === "result" || e.type === "error").length, 1);
}

/**
 * Resumes a crashed run after the last seq a client saw. The client may have
 * seen events the log never got (they reach followers before the log): then
 * it gets the interrupted error once, with the seq after its own. Only a
 * client whose last seq is exactly the log's last (the error's) is told 204.
 */
async function resumeAfterCrash(url: string, eventsUrl: string, after: number): Promise<void> {
  const resumed = await follow(url, eventsUrl, { after });
  const whole = await follow(url, eventsUrl);
  const logEnd = whole.events.at(-1)!.seq;
  if (resumed.status === 204 || resumed.events.length === 0) {
    // 204, or (when it connected before the run was found interrupted) an empty stream.
    assert.equal(after, logEnd, "nothing only for a client that is at the log's end");
    return;
  }
  assert.equal(resumed.status, 200);
  assertInterrupted(resumed.events, after);
  if (after < logEnd) assert.deepEqual(resumed.events, whole.events.slice(after));
}

Deno.test("a process killed with SIGKILL mid-run: after a restart its runs are interrupted, followers get the event, the conversation stays consistent", async () => {
  await using kv = await tempKvPath();
  const env = {
    ...RUNS_ENV,
    LANTERN_KV_PATH: kv.path,
    LANTERN_LEASE_MS: "600",
    LANTERN_LOCAL_PACE_MS: "200",
    LANTERN_LOCAL_TOKEN_MS: "40",
  };
  const first = await spawnServer(env);
  let project;
  let answering;
  let thinking;
  let answeringSeen: (Plain & { at: number })[];
  let thinkingSeen: (Plain & { at: number })[];
  try {
    project = await createProject(first.url);
    // One run is writing its answer, token by token; another is mid-way through its steps.
    answering = await startRun(first.url, project.id, "help");
    const a = await readUntil(await fetch(`${first.url}${answering.eventsUrl}`), stepStart("memory"));
    thinking = await startRun(first.url, project.id, "Remember that the server crashed");
    const t = await readUntil(await fetch(`${first.url}${thinking.eventsUrl}`), stepStart("analyzing"));
    let tokens = 0;
    while (tokens < 3) {
      const next = await within("the answering run's first tokens", a.rest.next());
      assert.ok(!next.done, "the answering run's stream ended before three tokens");
      a.events.push(next.value);
      if (next.value.type === "token") tokens++;
    }
    answeringSeen = a.events;
    thinkingSeen = t.events;
    await a.rest.return(undefined);
    await t.rest.return(undefined);
  } finally {
    const status = await first.kill("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
  }

  const second = await spawnServer(env);
  try {
    // Followers that connect after the restart, resuming where they were cut off.
    await resumeAfterCrash(second.url, answering.eventsUrl, answeringSeen.at(-1)!.seq);
    await resumeAfterCrash(second.url, thinking.eventsUrl, thinkingSeen.at(-1)!.seq);

    // From the start: what the log kept of what was seen, then the rest of it, then the error.
    for (const [run, seen] of [[answering, answeringSeen], [thinking, thinkingSeen]] as const) {
      const whole = await follow(second.url, run.eventsUrl);
      assertInterrupted(whole.events, 0);
      const logged = whole.events.slice(0, -1);
      const kept = Math.min(logged.length, seen.length);
      assert.deepEqual(logged.slice(0, kept), plain(seen.slice(0, kept)));
    }

    for (const run of [answering, thinking]) {
      const record = await runRecord(second.url, project.id, run.runId, 10);
      assert.equal(record.status, "interrupted");
      assert.equal(record.error?.code, "interrupted");
      assert.equal(record.result, null);
      assert.ok(record.endedAt);
    }
    const list = await call<RunRecord[]>(`${second.url}/api/projects/${project.id}/runs`);
    assert.deepEqual(list.body.map((r) => [r.id, r.status]), [
      [thinking.runId, "interrupted"],
      [answering.runId, "interrupted"],
    ]);
    // The user's messages are kept and marked; no half-written reply exists.
    const messages = await call<Message[]>(`${second.url}/api/projects/${project.id}/messages`);
    assert.deepEqual(messages.body.map((m) => [m.role, m.content, m.status]), [
      ["user", "help", "interrupted"],
      ["user", "Remember that the server crashed", "interrupted"],
    ]);
    // The restarted server works: a new run in the same project succeeds.
    const fresh = await startRun(second.url, project.id, "Remember that the restart worked");
    assert.equal((await runRecord(second.url, project.id, fresh.runId, 25)).status, "succeeded");
    // A cancel of an interrupted run answers its final status.
    const cancel = await call<{ status: string }>(`${second.url}${thinking.cancelUrl}`, { method: "POST" });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, "interrupted");
  } finally {
    await second.kill("SIGTERM");
  }
});

Deno.test("a dead owner's run is interrupted on the next sweep, and a reply it saved without its result is removed", async () => {
  await using server = await startRunsServer();
  const { stores, runs } = server.lantern;
  const project = await createProject(server.url);
  // What a crashed instance leaves behind: a running record, two events in
  // the log, the user's message, and the reply it saved just before dying.
  const runId = "0".repeat(12) + "a".repeat(25);
  const user = stores.messages.build({ role: "user", content: "help", runId });
  const record = orphanRecord(project.id, runId, user.id, "an-instance-that-died");
  const events: RunEvent[] = [
    { type: "token", runId, seq: 1, ts: 1, delta: "Hello " },
    { type: "token", runId, seq: 2, ts: 2, delta: "there" },
  ];
  const op = stores.kv.atomic()
    .set(["runs", project.id, runId], record)
    .set(["running", runId], { projectId: project.id, owner: record.owner })
    .set(stores.messages.key(project.id, user.id), user);
  runs.log.append(op, runId, events.map((e) => ({ seq: e.seq, json: JSON.stringify(e) })), false);
  assert.ok((await op.commit()).ok);
  await stores.messages.add(project.id, { role: "assistant", content: "Hello there", runId });

  // A client of the dead owner that saw seqs 3 to 5 (which never reached the
  // log) is already waiting when the run is found interrupted.
  const eventsUrl = `/api/projects/${project.id}/runs/${runId}/events`;
  const waiting = follow(server.url, eventsUrl, { after: 5 });
  await eventually("the follower to attach", () => runs.stats().streams === 1 || undefined);

  assert.equal(await runs.sweep(), 1);
  assert.equal(await runs.sweep(), 0, "a second sweep finds nothing");
  const final = await runRecord(server.url, project.id, runId);
  assert.equal(final.status, "interrupted");
  assert.equal(final.lastSeq, 3);
  const replay = await follow(server.url, `/api/projects/${project.id}/runs/${runId}/events`);
  assert.deepEqual(replay.events.slice(0, 2), events);
  assertInterrupted(replay.events, 0);
  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => [m.role, m.status]), [["user", "interrupted"]]);

  // The waiting client is told the run was interrupted, with the seq after its own.
  const notice = await waiting;
  assert.equal(notice.events.length, 1);
  assertInterrupted(notice.events, 5);

  // One that connects later, having seen seqs 3 to 7, is told the same…
  const ahead = await fetch(`${server.url}${eventsUrl}`, { headers: { "last-event-id": "7" } });
  assert.equal(ahead.status, 200);
  const text = await ahead.text();
  const data = JSON.parse(text.match(/^data: (.*)$/m)![1]!) as RunEvent;
  assert.equal(data.type, "error");
  assert.equal(data.type === "error" && data.error.code, "interrupted");
  assert.equal(data.seq, 8);
  // …and its id is the log's last seq, so an EventSource that reconnects is told 204 and stops.
  assert.match(text, /^id: 3$/m);
  const again = await fetch(`${server.url}${eventsUrl}`, { headers: { "last-event-id": "3" } });
  assert.equal(again.status, 204);
  await again.body?.cancel();
});
