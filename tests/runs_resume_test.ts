/**
 * Resuming and following: from every seq of a finished run and of a run
 * still going, 200 followers at once, a follower that reads nothing for a
 * while, and a feed that keeps only a bounded number of events in memory.
 */

import assert from "node:assert/strict";
import type { RunEvent } from "../lib/protocol.ts";
import { BACKFILL_BATCH, RunFeed } from "../lib/runs/feed.ts";
import { followFrames } from "../lib/runs/event_stream.ts";
import { RunLog } from "../lib/runs/run_log.ts";
import { call, createProject, readEvents } from "./helpers.ts";
import {
  bulkyEngine,
  eventually,
  follow,
  openEvents,
  type Plain,
  readUntil,
  resumeFromEverySeqWhileRunning,
  runRecord,
  startCustomServer,
  startRun,
  startRunsServer,
} from "./runs_helpers.ts";

Deno.test("a finished run resumes from every seq with exactly the events after it", async () => {
  await using server = await startRunsServer();
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  await runRecord(server.url, project.id, run.runId, 10);
  const unbroken = await follow(server.url, run.eventsUrl);
  const last = unbroken.events.length;
  assert.ok(last > 40, `a long enough run (${last} events)`);
  for (let k = 0; k <= last; k++) {
    const via = k % 2 === 0 ? "header" : "query";
    const resumed = await follow(server.url, run.eventsUrl, { after: k, via });
    if (k === last) {
      assert.equal(resumed.status, 204, "nothing after the terminal event");
      continue;
    }
    assert.equal(resumed.status, 200, `after ${k}`);
    assert.deepEqual(resumed.events, unbroken.events.slice(k), `after ${k} (${via})`);
  }
});

Deno.test("resumes taken while the run is going get every event after their seq, once, in order", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "15", LANTERN_LOCAL_TOKEN_MS: "4" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  const first = await openEvents(server.url, run.eventsUrl);
  const { unbroken, resumes } = await resumeFromEverySeqWhileRunning(server.url, run.eventsUrl, first);
  assert.equal(unbroken.at(-1)?.type, "result");
  assert.ok(resumes > 2 * unbroken.length);
  // The log holds the same events: a late replay agrees.
  assert.deepEqual((await follow(server.url, run.eventsUrl)).events, unbroken);
});

Deno.test("200 concurrent followers of one run all get every event in order", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_PACE_MS: "20", LANTERN_LOCAL_TOKEN_MS: "3" });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  const followers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => follow(server.url, run.eventsUrl, i % 3 === 0 ? { after: 0 } : {})),
  );
  const reference = (await follow(server.url, run.eventsUrl)).events;
  assert.equal(reference.at(-1)?.type, "result");
  for (const [i, f] of followers.entries()) {
    assert.equal(f.status, 200, `follower ${i}`);
    assert.deepEqual(f.events, reference, `follower ${i}`);
  }
  await eventually("followers to be released", () => server.lantern.runs.stats().streams === 0 || undefined);
});

/** Saves `count` memories of a few dozen words, so "list memories" answers with many tokens. */
async function saveMemories(url: string, projectId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const text = `Fact number ${i}: ` + Array.from({ length: 30 }, (_, w) => `word${w}`).join(" ");
    const res = await call(`${url}/api/projects/${projectId}/memories`, { body: { text } });
    assert.equal(res.status, 201);
  }
}

Deno.test("a follower that reads nothing for a while catches up with every event exactly once", async () => {
  await using server = await startRunsServer({ LANTERN_LOCAL_TOKEN_MS: "1" });
  const project = await createProject(server.url);
  await saveMemories(server.url, project.id, 25);
  const run = await startRun(server.url, project.id, "list memories");
  const sleeper = await openEvents(server.url, run.eventsUrl);
  const reader = await openEvents(server.url, run.eventsUrl);
  const eager = follow(server.url, run.eventsUrl);
  // The sleeper reads nothing while the run produces its answer, until an eager follower has it all.
  const record = await runRecord(server.url, project.id, run.runId, 25);
  assert.equal(record.status, "succeeded");
  const reference = (await eager).events;
  const late: Plain[] = [];
  for await (const message of readEvents(sleeper)) late.push(JSON.parse(message.data));
  assert.ok(reference.length > 500, `many events (${reference.length})`);
  assert.deepEqual(late, reference);
  // A reader that read nothing, then reads a bit, then the rest, also gets everything once.
  const { events, rest } = await readUntil(reader, (e) => e.seq === 100);
  for await (const event of rest) events.push(event);
  assert.deepEqual(events.map(({ at: _, ...e }) => e), reference);
});

Deno.test("with a small in-memory window, the feed stays bounded and followers behind it are served from the log", async () => {
  const maxEventsInMemory = 16;
  // About 20 MB of events: more than the socket buffers on both sides and the
  // client's own read-ahead can hold (8 MB sometimes fit, and the test then
  // proved nothing about the log).
  await using server = await startCustomServer({}, { maxEventsInMemory, engine: bulkyEngine(400, 50_000) });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "bulk");
  // Watch the feed from inside: how often followers read the log.
  const { feed, release } = await server.runs.open(project.id, run.runId);
  let backfills = 0;
  const backfill = feed.backfill!;
  feed.backfill = (after, upTo) => {
    backfills++;
    return backfill(after, upTo);
  };
  // The sleeper reads nothing until the run is over: its socket fills up, the
  // server stops pulling from its stream, and its cursor falls behind the feed.
  const sleeper = await openEvents(server.url, run.eventsUrl);
  try {
    const eager = follow(server.url, run.eventsUrl);
    try {
      assert.equal((await runRecord(server.url, project.id, run.runId, 25)).status, "succeeded");
    } finally {
      release();
    }
    const reference = (await eager).events;
    const bytes = reference.reduce((n, e) => n + JSON.stringify(e).length, 0);
    assert.ok(bytes > 20_000_000, `a run of ${bytes} bytes, more than socket buffers hold`);
    // Once written to the log (which may lag the run under load), old events
    // leave memory: the feed keeps its window, not the run.
    await eventually(
      "written events to leave memory",
      () => feed.events.length <= maxEventsInMemory || undefined,
      // 20 MB go to the log in commits of at most 400 KB: slow on a loaded machine.
      60_000,
    );
    assert.ok(feed.base > 0, "old events left memory");

    const duringRun = backfills;
    const late: Plain[] = [];
    for await (const message of readEvents(sleeper)) late.push(JSON.parse(message.data));
    assert.deepEqual(late, reference);
    // The stalled follower was not buffered for: what its socket could not
    // hold, it read back from the log, one bounded batch per read (so at most
    // one read per batch of the run's events).
    const caughtUp = backfills - duringRun;
    assert.ok(caughtUp >= 1, "the stalled follower caught up without reading the log (it was buffered for)");
    assert.ok(
      caughtUp <= Math.ceil(reference.length / BACKFILL_BATCH),
      `${caughtUp} log reads to catch up on ${reference.length} events`,
    );

    // A late follower from the start, and a resume from the middle, come from the log.
    const before = backfills;
    assert.deepEqual((await follow(server.url, run.eventsUrl)).events, reference);
    assert.ok(backfills > before, "the log served the replay");
    const middle = Math.floor(reference.length / 3);
    assert.deepEqual(
      (await follow(server.url, run.eventsUrl, { after: middle })).events,
      reference.slice(middle),
    );
  } finally {
    await sleeper.body?.cancel().catch(() => {});
  }
});

Deno.test("an event stream pulls from the feed only as the reader reads: a stalled reader costs a cursor", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const log = new RunLog(kv, 60_000);
    const feed = new RunFeed("r1", "p1");
    // Every read of the log, with the seq it starts after.
    const reads: number[] = [];
    feed.backfill = (after, upTo) => {
      reads.push(after);
      return log.read("r1", after, upTo);
    };
    const body = followFrames(feed, { after: 0, heartbeatMs: 60_000 });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    // 2,000 events arrive while nobody reads; the feed keeps only the newest 10.
    const total = 2_000;
    const kept = 10;
    for (let seq = 1; seq <= total; seq++) {
      const event: RunEvent = seq === total
        ? { type: "result", runId: "r1", seq, ts: seq, result: emptyResult() }
        : { type: "token", runId: "r1", seq, ts: seq, delta: `t${seq} ` };
      const op = kv.atomic();
      log.append(op, "r1", [{ seq, json: JSON.stringify(event) }], seq === total);
      await op.commit();
      feed.push(event);
      if (feed.events.length > kept) feed.trim(feed.lastSeq - kept);
    }
    assert.equal(feed.events.length, kept);
    assert.equal(feed.base, total - kept);
    // Unread, the stream took nothing: it did not even wait on the feed.
    assert.equal(feed.waiting, 0, "an unread stream waits on the feed (it pulled ahead of its reader)");
    assert.deepEqual(reads, [], "an unread stream read the log");
    // Reading: each pull hands over one bounded batch from the log, and only
    // once the reader has taken everything before it (nothing is buffered ahead).
    let text = "";
    let frames = 0;
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      text += chunk;
      frames += chunk.split("\n\n").length - 1;
      if (reads.length > 0) {
        assert.ok(
          reads.at(-1)! <= frames,
          `the stream read the log after ${reads.at(-1)} with ${frames} taken`,
        );
      }
    }
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ids, Array.from({ length: total }, (_, i) => i + 1));
    // Exactly one log read per batch of what left memory, each starting where the reader was.
    const batches = Math.ceil((total - kept) / BACKFILL_BATCH);
    assert.deepEqual(reads, Array.from({ length: batches }, (_, i) => i * BACKFILL_BATCH));
    assert.equal(feed.followers, 0);
  } finally {
    kv.close();
  }
});

function emptyResult() {
  return {
    runId: "r1",
    message: "",
    plan: [],
    actions: [],
    memories: { added: [], removed: [] },
    steps: [],
    engine: "local",
  };
}
