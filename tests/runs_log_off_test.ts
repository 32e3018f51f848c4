/**
 * With the run log off (`LANTERN_RUN_LOG=off`), runs still end durably in
 * their record: each run's final record and its removal from the running
 * index are written (grouped with other runs' in shared commits), and
 * followers get every event once, in order.
 */

import assert from "node:assert/strict";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { RunEvent, RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { runKeys } from "../lib/runs/keys.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";

Deno.test("with the log off, concurrent runs end with their final record written and every event delivered", async () => {
  const stores = createStores(await Deno.openKv(":memory:"));
  const runs = new RunRegistry({
    stores,
    engine: new LocalEngine({ paceMs: 0, tokenMs: 0 }),
    runTtlMs: 60_000,
    leaseMs: 10_000,
    durableLog: false,
  });
  await runs.init();
  try {
    const project = await stores.projects.create("Log off");
    const started = await Promise.all(
      ["Remember that tea is at 4", "When is tea?", "hello"].map((m) => runs.start(project, m)),
    );
    for (const run of started) {
      const { feed, release } = await runs.open(project.id, run.id);
      const seen: RunEvent[] = [];
      for await (const event of followEvents(feed, 0)) seen.push(event);
      release();
      assert.deepEqual(seen.map((e) => e.seq), seen.map((_, i) => i + 1), "every event once, in order");
      assert.equal(seen.at(-1)?.type, "result");
      await runs.cancel(project.id, run.id); // resolves once the final writes are done
      const stored = (await stores.kv.get<RunRecord>(runKeys.record(project.id, run.id))).value;
      assert.equal(stored?.status, "succeeded");
      assert.equal(stored?.lastSeq, seen.length);
      assert.equal(
        (await stores.kv.get(runKeys.running(run.owner, run.id))).value,
        null,
        "still indexed as running",
      );
      // Nothing went to a log.
      assert.equal(await runs.log.head(run.id), null);
    }
  } finally {
    await runs.close(0);
    stores.kv.close();
  }
});
