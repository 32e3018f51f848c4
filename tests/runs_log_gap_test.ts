/**
 * A run log with missing events (one `["run_events", runId, seq, part]` key
 * gone from KV: a chunk of consecutive events, named by its last seq) is
 * never replayed with a silent hole: the replay stops before the gap (it may
 * stop a batch early) and fails, so the client sees a broken stream (and an
 * EventSource reconnects) instead of a run that skips an event.
 */

import assert from "node:assert/strict";
import type { RunEvent } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { createProject, readEvents, within } from "./helpers.ts";
import { follow, openEvents, runRecord, startCustomServer, startRun, tempKvPath } from "./runs_helpers.ts";

/** Runs "help" to the end on `server` and returns its id, events URL and event count. */
async function finishedRun(server: { url: string }) {
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "help");
  assert.equal((await runRecord(server.url, project.id, run.runId, 25)).status, "succeeded");
  const whole = await follow(server.url, run.eventsUrl);
  assert.ok(whole.events.length > 40, `a long enough run (${whole.events.length} events)`);
  return { project, run, events: whole.events };
}

/**
 * Deletes the log's KV value that holds event `seq` (with the events it
 * shares it with); returns the first and last seq it held.
 */
async function dropChunkOf(
  kv: Deno.Kv,
  runId: string,
  seq: number,
): Promise<{ first: number; last: number }> {
  let first = 1;
  for await (const entry of kv.list<{ n: number; s: string }>({ prefix: ["run_events", runId] })) {
    const last = entry.key[2] as number;
    if (last >= seq) {
      assert.equal(entry.value.n, 1, "a small event's chunk is one value");
      await kv.delete(entry.key);
      return { first, last };
    }
    first = last + 1;
  }
  throw new Error(`No log value holds seq ${seq} of run ${runId}.`);
}

/** Reads a replay as far as it goes: the events it delivered, and how it ended. */
async function replay(url: string, eventsUrl: string, after = 0) {
  const res = await openEvents(url, eventsUrl, { after });
  const events: RunEvent[] = [];
  let failure: unknown = null;
  if (res.status !== 200) return { status: res.status, events, failure: await res.text() };
  try {
    for await (const message of readEvents(res)) events.push(JSON.parse(message.data) as RunEvent);
  } catch (error) {
    failure = error;
  }
  return { status: res.status, events, failure };
}

function assertStopsAtGap(
  got: { status: number; events: RunEvent[]; failure: unknown },
  after: number,
  gap: number,
) {
  assert.equal(got.status, 200);
  // What it delivered runs on from `after` without a hole, and stops before the gap.
  const seqs = got.events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => after + 1 + i), "the replay skipped an event");
  assert.ok(seqs.length < gap - after, `an event at or after the gap was delivered: ${seqs.at(-1)}`);
  assert.ok(got.failure, "the replay ended as if complete, without the missing event");
}

Deno.test("a log with a missing event ends the replay with an error at the gap, not a silent skip", async () => {
  await using kv = await tempKvPath();
  // A small window: events leave memory once written, so replays read the log.
  // Paced steps: each step's events are written in a commit of their own, so the log has chunks after the gap.
  await using server = await startCustomServer({ LANTERN_KV_PATH: kv.path, LANTERN_LOCAL_PACE_MS: "5" }, {
    maxEventsInMemory: 4,
    retainMs: 60_000,
  });
  const { project, run, events } = await finishedRun(server);
  const { first, last } = await dropChunkOf(server.stores.kv, run.runId, 8);
  assert.ok(last < events.length, `the dropped chunk (up to ${last}) is not the log's last`);
  const gap = first;

  assertStopsAtGap(await replay(server.url, run.eventsUrl), 0, gap);
  if (gap > 1) assertStopsAtGap(await replay(server.url, run.eventsUrl, gap - 1), gap - 1, gap);
  // After the gap, the log is whole again.
  const tail = await replay(server.url, run.eventsUrl, last);
  assert.equal(tail.failure, null);
  assert.deepEqual(tail.events, events.slice(last));

  // In-process followers (the non-streaming routes, AG-UI) get a clear error too.
  const { feed, release } = await server.runs.open(project.id, run.runId);
  try {
    const seen: number[] = [];
    await assert.rejects(
      within(
        "the in-process replay to fail",
        (async () => {
          for await (const event of followEvents(feed, 0)) seen.push(event.seq);
        })(),
      ),
      new RegExp(`Run ${run.runId} lost events after seq \\d+\\.`),
    );
    assert.deepEqual(seen, seen.map((_, i) => i + 1), "the in-process replay skipped an event");
    assert.ok(seen.length < gap, `the in-process replay went past the gap: ${seen.at(-1)}`);
  } finally {
    release();
  }
});

Deno.test("another instance replaying a log with a missing event stops at the gap too", async () => {
  await using kv = await tempKvPath();
  await using a = await startCustomServer({ LANTERN_KV_PATH: kv.path });
  const { run } = await finishedRun(a);
  const gap = (await dropChunkOf(a.stores.kv, run.runId, 5)).first;
  // B holds nothing in memory and keeps a small window: it reads the log.
  await using b = await startCustomServer({ LANTERN_KV_PATH: kv.path }, { maxEventsInMemory: 4 });
  const got = await replay(b.url, run.eventsUrl);
  if (got.status === 200) assertStopsAtGap(got, 0, gap);
  else {
    // Or B refuses the broken log outright, with a JSON error.
    assert.ok(got.status >= 500, `B answered ${got.status}`);
    assert.match(String(got.failure), /"error":\{"code":/);
  }
});
