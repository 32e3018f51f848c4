/**
 * The sweep for orphaned runs: it finds every run whose owner's lease
 * lapsed, however its index entry was keyed, and reads none of the entries
 * of the instance that sweeps, so that an instance driving thousands of runs
 * does not read them all every few seconds.
 */

import assert from "node:assert/strict";
import type { RunRecord } from "../lib/protocol.ts";
import { createStores } from "../lib/store/mod.ts";
import { Leases } from "../lib/runs/leases.ts";
import { RunLog } from "../lib/runs/run_log.ts";
import { runKeys } from "../lib/runs/keys.ts";
import { orphanRecord } from "./runs_helpers.ts";

/** The KV, with every entry its lists hand out counted. */
function countingLists(kv: Deno.Kv): { kv: Deno.Kv; listed: () => number } {
  let listed = 0;
  const spy = new Proxy(kv, {
    get(target, name) {
      if (name === "list") {
        return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
          const entries = target.list(selector, options);
          return (async function* () {
            for await (const entry of entries) {
              listed++;
              yield entry;
            }
          })();
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: spy, listed: () => listed };
}

Deno.test("a sweep interrupts other instances' orphans, old index keys included, and reads none of its own runs", async () => {
  const kv = await Deno.openKv(":memory:");
  const stores = createStores(kv);
  const project = await stores.projects.create("Sweep");
  const log = new RunLog(kv, 60_000);
  const counting = countingLists(kv);
  const leases = new Leases({
    kv: counting.kv,
    instanceId: "instance-alive",
    leaseMs: 10_000,
    log,
    messages: stores.messages,
    shutdown: new AbortController().signal,
  });
  await leases.renew();

  // 300 runs this instance drives, indexed under its id.
  for (let i = 0; i < 300; i += 100) {
    const op = kv.atomic();
    for (let j = i; j < i + 100; j++) {
      op.set(runKeys.running("instance-alive", `own-${String(j).padStart(3, "0")}`), {
        projectId: project.id,
        owner: "instance-alive",
      });
    }
    assert.ok((await op.commit()).ok);
  }
  // Two runs of an instance that died: one indexed as now, one as Lantern wrote it before (["running", runId]).
  const orphans = ["orphan-new", "orphan-old"];
  for (const runId of orphans) {
    const user = stores.messages.build({ role: "user", content: "help", runId });
    const record = orphanRecord(project.id, runId, user.id, "instance-dead");
    const index = runId === "orphan-new"
      ? runKeys.running("instance-dead", runId)
      : runKeys.runningBefore(runId);
    const op = kv.atomic()
      .set(runKeys.record(project.id, runId), record)
      .set(index, { projectId: project.id, owner: "instance-dead" })
      .set(stores.messages.key(project.id, user.id), user);
    assert.ok((await op.commit()).ok);
  }

  assert.equal(await leases.sweep(), 2);
  assert.equal(counting.listed(), 2, "the sweep read only the two orphans' entries");
  for (const runId of orphans) {
    const record = (await kv.get<RunRecord>(runKeys.record(project.id, runId))).value;
    assert.equal(record?.status, "interrupted", runId);
  }
  // Both orphans left the index, whichever way they were keyed; this instance's runs are all still there.
  const left: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix: ["running"] })) left.push(entry.key);
  assert.equal(left.length, 300);
  assert.ok(left.every((key) => key[1] === "instance-alive"));
  assert.equal(await leases.sweep(), 0, "a second sweep finds nothing");
  await leases.release();
  kv.close();
});
