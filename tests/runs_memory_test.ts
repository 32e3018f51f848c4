/**
 * What a run keeps in memory: with the log on, events leave memory once they
 * are logged and every attached follower has read them, and a finished run
 * keeps only its terminal event; a follower that comes later still gets
 * every event, once, in order, from the log, and the run leaves memory soon
 * after it ends. With the log off, memory is all there is, so a finished run
 * keeps every event for its late followers, and stays a minute.
 */

import assert from "node:assert/strict";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { RunEvent, RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { RETAIN_MS, RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";
import { eventually } from "./runs_helpers.ts";

async function finishedRun(durableLog: boolean) {
  const stores = createStores(await Deno.openKv(":memory:"));
  const runs = new RunRegistry({
    stores,
    engine: new LocalEngine({ paceMs: 0, tokenMs: 0 }),
    runTtlMs: 60_000,
    leaseMs: 10_000,
    durableLog,
  });
  await runs.init();
  const project = await stores.projects.create("Memory");
  const run = await runs.start(project, "Remember that tea is at 4");
  const held = await runs.open(project.id, run.id);
  const seen: RunEvent[] = [];
  for await (const event of followEvents(held.feed, 0)) seen.push(event);
  held.release();
  await runs.cancel(project.id, run.id); // resolves once the run's last writes are done
  return {
    runs,
    project,
    run,
    seen,
    feed: held.feed,
    async [Symbol.asyncDispose]() {
      await runs.close(0);
      stores.kv.close();
    },
  };
}

/** What a follower that comes after the run's end reads, from the seq after `after`. */
async function followLate(runs: RunRegistry, run: RunRecord, after: number): Promise<RunEvent[]> {
  const { feed, release } = await runs.open(run.projectId, run.id);
  const late: RunEvent[] = [];
  for await (const event of followEvents(feed, after)) late.push(event);
  release();
  return late;
}

Deno.test("with the log on, a finished run keeps only its terminal event; a late follower reads the rest from the log", async () => {
  await using r = await finishedRun(true);
  assert.ok(r.seen.length > 20, `a long enough run (${r.seen.length} events)`);
  assert.equal(r.feed.events.length, 1, "events still held in memory after the run");
  assert.deepEqual(r.feed.events[0], r.seen.at(-1));
  const late = await followLate(r.runs, r.run, 0);
  assert.deepEqual(late, r.seen, "the late follower's events differ from the live follower's");
});

Deno.test("with the log off, a finished run keeps every event in memory for late followers", async () => {
  await using r = await finishedRun(false);
  assert.equal(r.feed.events.length, r.seen.length);
  const late = await followLate(r.runs, r.run, 3);
  assert.deepEqual(late, r.seen.slice(3));
});

Deno.test("with the log on, a finished run leaves memory soon after it ends, and is still read whole from KV", async () => {
  await using r = await finishedRun(true);
  const ended = await r.runs.get(r.project.id, r.run.id);
  assert.equal(r.runs.stats().liveRuns, 1, "the run is kept a moment for a reconnecting client");
  await eventually("the finished run to leave memory", () => r.runs.stats().liveRuns === 0 || undefined);
  assert.deepEqual(await r.runs.get(r.project.id, r.run.id), ended);
  const late = await followLate(r.runs, r.run, 0);
  assert.deepEqual(late, r.seen, "the events read back from the log differ from the live ones");
});

Deno.test("with the log off, a finished run stays in memory well past the log's retention", async () => {
  await using r = await finishedRun(false);
  await new Promise((resolve) => setTimeout(resolve, RETAIN_MS.logged + 500));
  assert.equal(r.runs.stats().liveRuns, 1, "memory is all a late follower of an unlogged run can read");
  const late = await followLate(r.runs, r.run, 0);
  assert.deepEqual(late, r.seen);
});
