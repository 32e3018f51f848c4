/**
 * The run log's writer groups a burst: the events a run emits over a step
 * (which hands the event loop back once, as each step's work begins at the
 * next turn) go to the log in one commit, not one per turn.
 */

import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { FeedLog } from "../lib/feeds/feed_log.ts";
import { type LoggedRun, LogWriter } from "../lib/runs/log_writer.ts";
import { RunLog } from "../lib/runs/run_log.ts";
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
