/**
 * A run ends in one commit: its terminal event, its record, its reply and
 * the project feed's `message.added` and `run.ended` land together (issue
 * 18: fewer commits a run). So a reply exists exactly when its run
 * succeeded, and a viewer of the feed never hears of one without the other.
 * The feed's check in that commit is the log writer's: another instance's
 * append is caught and retried, and a commit never checks more feeds than KV
 * allows.
 */

import assert from "node:assert/strict";
import { FeedLog, feedScopes } from "../lib/feeds/feed_log.ts";
import type { FeedEvent, Message, RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { runKeys } from "../lib/runs/keys.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";
import { ScriptedEngine } from "../lib/agent/scripted_engine.ts";
import { within } from "./helpers.ts";
import { TestEngine } from "./runs_helpers.ts";

/** The feed's seqs are 1..n with no gap or repeat. */
function assertContiguous(events: FeedEvent[]): void {
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
}

Deno.test("a run's terminal event, record, reply and feed changes are written in one commit", async () => {
  const stores = createStores(await Deno.openKv(":memory:"));
  const runs = new RunRegistry({ stores, engine: new ScriptedEngine(), runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  try {
    const project = await stores.projects.create("One commit");
    const run = await runs.start(project, "Hello");
    const { feed, release } = await runs.open(project.id, run.id);
    for await (const _ of followEvents(feed, 0)) { /* to the end */ }
    release();
    const record = await stores.kv.get<RunRecord>(runKeys.record(project.id, run.id));
    assert.equal(record.value?.status, "succeeded");
    const events = await stores.feed.read(feedScopes.project(project.id), 0);
    assertContiguous(events);
    assert.deepEqual(events.map((e) => e.type), [
      "run.started",
      "message.added",
      "message.added",
      "run.ended",
    ]);
    const reply = (events[2] as FeedEvent & { message: Message }).message;
    assert.equal(reply.role, "assistant");
    const stamps = [
      record.versionstamp,
      (await stores.kv.get(runKeys.head(run.id))).versionstamp,
      (await stores.kv.get(stores.messages.key(project.id, reply.id))).versionstamp,
      (await stores.kv.get(["feed", feedScopes.project(project.id), 3])).versionstamp,
      (await stores.kv.get(["feed", feedScopes.project(project.id), 4])).versionstamp,
    ];
    assert.equal(new Set(stamps).size, 1, `one commit, got ${stamps.join(", ")}`);
    // The reply in the conversation is the one the feed told of.
    const messages = await stores.messages.list(project.id);
    assert.deepEqual(messages.map((m) => m.id), [run.messageId, reply.id]);
  } finally {
    await runs.close(0);
    stores.kv.close();
  }
});

Deno.test("another instance's append to the project feed while a run goes: the run's end still lands once, no seq lost or reused", async () => {
  const kv = await Deno.openKv(":memory:");
  const stores = createStores(kv);
  const gate = Promise.withResolvers<void>();
  const paused = Promise.withResolvers<void>();
  const engine = new TestEngine({
    pace: (step) => {
      if (step !== "completion") return Promise.resolve();
      paused.resolve();
      return gate.promise;
    },
  });
  const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  try {
    const project = await stores.projects.create("Two instances");
    const run = await runs.start(project, "Remember that the kiln is hot");
    await within("the run to reach its last step", paused.promise);
    // Another instance (its own feed log over the same KV) appends: this instance's known head is stale.
    const other = createStores(kv);
    await other.projects.rename(project.id, "Two instances, renamed");
    gate.resolve();
    const { feed, release } = await runs.open(project.id, run.id);
    const seen = [];
    for await (const event of followEvents(feed, 0)) seen.push(event);
    release();
    assert.equal(seen.at(-1)?.type, "result");
    const events = await stores.feed.read(feedScopes.project(project.id), 0);
    assertContiguous(events);
    const types = events.map((e) => e.type);
    assert.equal(types.filter((t) => t === "run.ended").length, 1);
    assert.equal(types.filter((t) => t === "project.renamed").length, 1);
    assert.equal(types.at(-1), "run.ended");
    const messages = await stores.messages.list(project.id);
    assert.deepEqual(messages.map((m) => m.role), ["user", "assistant"]);
  } finally {
    await runs.close(0);
    kv.close();
  }
});

for (const durableLog of [true, false]) {
  Deno.test(`runs in 150 projects stopped at once (log ${durableLog ? "on" : "off"}): every project feed hears its run ended, and no commit is refused`, async () => {
    const stores = createStores(await Deno.openKv(":memory:"));
    const engine = new TestEngine({
      pace: (_step, signal) =>
        new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
    });
    const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000, durableLog });
    await runs.init();
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.map(String).join(" "));
    try {
      const projects = await Promise.all(
        Array.from({ length: 150 }, (_, i) => stores.projects.create(`P${i}`)),
      );
      const started = await Promise.all(projects.map((p) => runs.start(p, "Wait")));
      // More feeds end in this moment than one commit may check (KV allows 100 checks).
      await runs.close(0);
      assert.deepEqual(errors, [], "no commit was refused");
      for (const [i, project] of projects.entries()) {
        const events = await stores.feed.read(feedScopes.project(project.id), 0);
        assertContiguous(events);
        const ended = events.filter((e) => e.type === "run.ended");
        assert.deepEqual(ended.map((e) => e.type === "run.ended" && e.runId), [started[i]!.id], project.name);
      }
    } finally {
      console.error = original;
      stores.kv.close();
    }
  });
}

Deno.test("feed log stage: a known head is staged and moves on commit; an unknown or busy one is left for later", async () => {
  const kv = await Deno.openKv(":memory:");
  const log = new FeedLog(kv);
  const heard: number[] = [];
  log.onAppend(({ head }) => heard.push(head));
  const known = feedScopes.project("known");
  await log.commit([{ scope: known, changes: [{ type: "run.ended", runId: "r0", status: "succeeded" }] }]);
  const unknown = feedScopes.project("unknown");
  const op = kv.atomic();
  const { staged, later } = log.stage(op, [
    { scope: known, changes: [{ type: "run.ended", runId: "r1", status: "succeeded" }] },
    { scope: unknown, changes: [{ type: "run.ended", runId: "r2", status: "succeeded" }] },
  ]);
  assert.deepEqual(later.map((a) => a.scope), [unknown]);
  // An append of this instance to the staged feed waits for the staged commit, and follows it.
  const waiting = log.commit([{
    scope: known,
    changes: [{ type: "run.ended", runId: "r3", status: "cancelled" }],
  }]);
  const result = await op.commit();
  assert.ok(result.ok);
  staged.committed(result.versionstamp);
  assert.deepEqual(await waiting, { [known]: 3 });
  assert.deepEqual((await log.read(known, 0)).map((e) => e.type === "run.ended" && e.runId), [
    "r0",
    "r1",
    "r3",
  ]);
  assert.deepEqual(heard, [1, 2, 3]);
  assert.equal(await log.head(unknown), 0, "nothing was written for the unknown feed");
  // While an append of its own holds a feed, staging leaves it for later.
  const holding = log.commit([{
    scope: known,
    changes: [{ type: "run.ended", runId: "r4", status: "succeeded" }],
  }]);
  const busy = log.stage(kv.atomic(), [{ scope: known, changes: [] }, {
    scope: known,
    changes: [{ type: "run.ended", runId: "r5", status: "succeeded" }],
  }]);
  assert.deepEqual(busy.later.map((a) => a.scope), [known]);
  busy.staged.abandon();
  await holding;
  kv.close();
});

Deno.test("feed log stage: a head another instance moved fails the check; after refresh, staging again lands", async () => {
  const kv = await Deno.openKv(":memory:");
  const log = new FeedLog(kv);
  const other = new FeedLog(kv);
  const scope = feedScopes.project("p1");
  const change = (runId: string) => ({ type: "run.ended", runId, status: "succeeded" }) as const;
  await log.commit([{ scope, changes: [change("a")] }]);
  await other.commit([{ scope, changes: [change("b")] }]);
  const first = kv.atomic();
  const stale = log.stage(first, [{ scope, changes: [change("c")] }]);
  assert.equal((await first.commit()).ok, false, "the stale head's check fails");
  await stale.staged.refresh();
  const second = kv.atomic();
  const fresh = log.stage(second, [{ scope, changes: [change("c")] }]);
  const result = await second.commit();
  assert.ok(result.ok);
  fresh.staged.committed(result.versionstamp);
  const events = await log.read(scope, 0);
  assertContiguous(events);
  assert.deepEqual(events.map((e) => e.type === "run.ended" && e.runId), ["a", "b", "c"]);
  kv.close();
});
