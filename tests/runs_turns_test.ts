/**
 * Runs take turns step by step: even with an engine that never waits (the
 * scripted one), a run hands the event loop back between its steps, so new
 * requests and other runs' commits are seen to while it works, not after
 * its whole answer.
 */

import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import type { Analysis, EngineContext, Outcome } from "../lib/agent/engine.ts";
import { ScriptedEngine } from "../lib/agent/scripted_engine.ts";
import type { RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";

/** The scripted engine, noting when a run ends its answer. */
class NotingEngine extends ScriptedEngine {
  readonly notes: string[] = [];

  override async *answer(ctx: EngineContext, analysis: Analysis, outcome: Outcome) {
    yield* super.answer(ctx, analysis, outcome);
    this.notes.push(`${ctx.runId} answered`);
  }
}

/** Follows a run to its end; its last event's type. */
async function ending(runs: RunRegistry, run: RunRecord): Promise<string | undefined> {
  const { feed, release } = await runs.open(run.projectId, run.id);
  let last: string | undefined;
  for await (const event of followEvents(feed, 0)) last = event.type;
  release();
  return last;
}

Deno.test("a run hands the event loop back between its steps, however fast its engine", async () => {
  const stores = createStores(await Deno.openKv(":memory:"));
  const engine = new NotingEngine();
  const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  try {
    const project = await stores.projects.create("Turns");
    // A first run, so the next one finds the project's context kept: no KV read to wait on.
    assert.equal(await ending(runs, await runs.start(project, "hello")), "result");

    const run = await runs.start(project, "hello again");
    setImmediate(() => engine.notes.push("the event loop's next turn"));
    assert.equal(await ending(runs, run), "result");
    assert.deepEqual(
      engine.notes.slice(1),
      ["the event loop's next turn", `${run.id} answered`],
      "the run held the event loop from its start to its answer",
    );
  } finally {
    await runs.close(0);
    stores.kv.close();
  }
});
