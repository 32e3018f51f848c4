/**
 * The run log's writer groups a burst: the events a run emits over a step
 * (which hands the event loop back once, as each step's work begins at the
 * next turn) go to the log in one commit, not one per turn. And it lets the
 * small commits already waiting in the commit group (runs starting) go to KV
 * before its own.
 */

import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FeedLog } from "../lib/feeds/feed_log.ts";
import { type LoggedRun, LogWriter } from "../lib/runs/log_writer.ts";
import { RunLog } from "../lib/runs/run_log.ts";
import { groupCommits } from "../lib/store/group_commit.ts";
import { countingKv } from "./helpers.ts";

/** A run with events to log and no end yet. */
function quietRun(runId: string): LoggedRun & { logged: number } {
  return {
    runId,
    pending: [],
    committedSeq: 0,
    logExpiresAt: null,
    endSeq: null,
    logged: 0,
    finalWrites: () => {},
    finalAppend: () => ({ scope: "project:p1", changes: [] }),
    finalBytes: () => 0,
    written(seq) {
      this.logged = seq;
    },
    failed: () => {},
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

Deno.test("the log writer takes a burst that spans a turn of the event loop in one commit", async () => {
  const { kv, commits } = await countingKv();
  try {
    const log = new RunLog(kv, 60_000);
    const writer = new LogWriter(kv, log, new FeedLog(kv));
    const run = quietRun("r1");
    let seq = 0;
    const emit = () => {
      seq++;
      run.pending.push({ seq, json: JSON.stringify({ type: "token", runId: "r1", seq, ts: 0, delta: "a" }) });
      writer.schedule(run);
    };
    emit();
    emit();
    await turn(); // as a step's work begins
    emit();
    emit();
    await writer.idle();
    assert.equal(run.logged, 4);
    assert.equal(commits(), 1, "the burst took more than one commit");
    assert.deepEqual((await log.read("r1", 0, 4)).map((e) => e.seq), [1, 2, 3, 4]);
  } finally {
    kv.close();
  }
});

Deno.test("the log writer's commit waits for the runs' starts already queued in the commit group", async () => {
  const kv = await Deno.openKv(":memory:");
  // Each commit notes its first key's first part as it goes to KV; the first one (a start) is held.
  const sent: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const atomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const op = atomic();
    let first = "";
    const set = op.set.bind(op);
    op.set = (key, value, options) => (first ||= String(key[0]), set(key, value, options));
    const mutate = op.mutate.bind(op);
    op.mutate = (...mutations) => (first ||= String(mutations[0]!.key[0]), mutate(...mutations));
    const commit = op.commit.bind(op);
    op.commit = async () => {
      sent.push(first);
      if (first === "start-1") await held;
      return await commit();
    };
    return op;
  };
  try {
    const group = groupCommits(kv);
    const writer = new LogWriter(kv, new RunLog(kv, 60_000), new FeedLog(kv));
    const firstStart = group.atomic().set(["start-1"], 1).commit();
    while (sent.length === 0) await turn();
    // While that commit is in KV, another run starts and a run's events are due in the log.
    const secondStart = group.atomic().set(["start-2"], 1).commit();
    const run = quietRun("r1");
    run.pending.push({
      seq: 1,
      json: JSON.stringify({ type: "token", runId: "r1", seq: 1, ts: 0, delta: "a" }),
    });
    writer.schedule(run);
    for (let i = 0; i < 5; i++) await turn();
    release();
    await Promise.all([firstStart, secondStart, writer.idle()]);
    assert.equal(run.logged, 1);
    assert.deepEqual(sent, ["start-1", "start-2", "run_events"]);
  } finally {
    kv.close();
  }
});
