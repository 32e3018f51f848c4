/**
 * What the run registry promises about its log, driven in process: a run's
 * terminal event reaches followers only once it is in the log (so no crash
 * can give a run a second, different ending), followers that replay from
 * the same position share one log read per batch, and an event too large
 * for one KV commit is logged whole, part by part.
 */

import assert from "node:assert/strict";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { RunEvent } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores, type Stores } from "../lib/store/mod.ts";
import { createProject, within } from "./helpers.ts";
import { bulkyEngine, follow, startCustomServer, startRun, TestEngine } from "./runs_helpers.ts";

async function registry(
  options: { engine?: LocalEngine | ReturnType<typeof bulkyEngine>; maxEventsInMemory?: number } = {},
): Promise<{ runs: RunRegistry; stores: Stores } & AsyncDisposable> {
  const stores = createStores(await Deno.openKv(":memory:"));
  const runs = new RunRegistry({
    stores,
    engine: options.engine ?? new LocalEngine({ paceMs: 0, tokenMs: 0 }),
    runTtlMs: 60_000,
    leaseMs: 10_000,
    maxEventsInMemory: options.maxEventsInMemory,
  });
  await runs.init();
  return {
    runs,
    stores,
    async [Symbol.asyncDispose]() {
      await runs.close(0);
      stores.kv.close();
    },
  };
}

Deno.test("a follower gets the terminal event only once the log holds it", async () => {
  const kv = await Deno.openKv(":memory:");
  // Commits of the run log can be held at a gate, to see what followers get meanwhile.
  let gate: PromiseWithResolvers<void> | null = null;
  const gated = new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "atomic") return typeof value === "function" ? value.bind(target) : value;
      return () => {
        const op = target.atomic();
        let writesLog = false;
        const wrapped: Deno.AtomicOperation = new Proxy(op, {
          get(o, name) {
            const member = Reflect.get(o, name, o);
            if (name === "commit") {
              return async () => {
                if (writesLog) await gate?.promise;
                return await o.commit();
              };
            }
            if (typeof member !== "function") return member;
            return (...args: unknown[]) => {
              if (name === "set" && (args[0] as Deno.KvKey)[0] === "run_events") writesLog = true;
              const out = member.apply(o, args);
              return out === o ? wrapped : out;
            };
          },
        });
        return wrapped;
      };
    },
  });
  const stores = createStores(gated);
  const runs = new RunRegistry({
    stores,
    engine: new LocalEngine({ paceMs: 0, tokenMs: 0 }),
    runTtlMs: 60_000,
    leaseMs: 10_000,
  });
  await runs.init();
  try {
    const project = await stores.projects.create("Durable");
    const run = await runs.start(project, "Remember that the launch is on May 3");
    const { feed, release } = await runs.open(project.id, run.id);
    const seen: RunEvent[] = [];
    const followed = (async () => {
      for await (const event of followEvents(feed, 0)) {
        seen.push(event);
        // Hold the log's commits from the completion step on: the terminal event will wait at the gate.
        if (event.type === "progress" && event.progress.step === "completion" && !gate) {
          gate = Promise.withResolvers<void>();
        }
      }
    })();
    // The run has ended (its record says so at once) while its last events wait at the gate.
    await within(
      "the run to end",
      (async () => {
        while ((await runs.get(project.id, run.id))?.status === "running") {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
    );
    // Give a terminal event handed out too early every chance to reach the follower.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(
      seen.filter((e) => e.type === "result").length,
      0,
      "the result reached a follower before the log",
    );
    const held = gate as PromiseWithResolvers<void> | null;
    assert.ok(held, "the gate was never closed");
    held.resolve();
    await within("the follower to finish", followed);
    release();
    assert.equal(seen.at(-1)?.type, "result");
    assert.deepEqual((await runs.log.read(run.id, 0)).at(-1), seen.at(-1));
  } finally {
    // Open the gate whatever happened, so the run's last writes (and close) can finish.
    (gate as PromiseWithResolvers<void> | null)?.resolve();
    await runs.close(0);
    kv.close();
  }
});

Deno.test("followers replaying from the same position share one log read per batch", async () => {
  // Two events in memory: everything else is replayed from the log.
  await using w = await registry({ maxEventsInMemory: 2 });
  const project = await w.stores.projects.create("Replays");
  const run = await w.runs.start(project, "Remember that replays are shared");
  const { feed: first, release: releaseFirst } = await w.runs.open(project.id, run.id);
  for await (const _ of followEvents(first, 0));
  releaseFirst();
  const total = (await w.runs.log.read(run.id, 0)).length;
  assert.ok(total > 20, `only ${total} events`);

  let reads = 0;
  const log = w.runs.log;
  const read = log.read.bind(log);
  log.read = (...args: Parameters<typeof log.read>) => {
    reads++;
    return read(...args);
  };
  const followers = 50;
  const { feed, release } = await w.runs.open(project.id, run.id);
  const replays = await Promise.all(Array.from({ length: followers }, async () => {
    const seqs: number[] = [];
    for await (const event of followEvents(feed, 0)) seqs.push(event.seq);
    return seqs;
  }));
  release();
  for (const seqs of replays) assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
  // One read of the replayed batch, shared by all 50, rather than one each.
  assert.ok(reads <= 2, `${followers} followers from the same position made ${reads} log reads`);
});

Deno.test("an event larger than one KV commit is logged whole, part by part", async () => {
  // One note of ~1 MB: over KV's ~800 KB per commit, so it cannot go in one write.
  await using w = await registry({ engine: bulkyEngine(1, 1_000_000) });
  const project = await w.stores.projects.create("Large");
  const run = await w.runs.start(project, "bulk");
  const { feed, release } = await w.runs.open(project.id, run.id);
  const live: RunEvent[] = [];
  for await (const event of followEvents(feed, 0)) live.push(event);
  release();
  assert.equal(live.at(-1)?.type, "result");
  const logged = await w.runs.log.read(run.id, 0);
  assert.deepEqual(logged.map((e) => e.seq), live.map((e) => e.seq), "the log has every event");
  assert.deepEqual(logged, live);
  assert.ok(JSON.stringify(logged).length > 1_000_000);
});

Deno.test("resuming over HTTP just below an event larger than one KV commit gets it whole, then the end", async () => {
  // Issue 13: such an event was dropped from the log, and a resume below it answered only `retry:`.
  await using server = await startCustomServer({}, {
    engine: bulkyEngine(1, 1_000_000),
    maxEventsInMemory: 4,
  });
  const project = await createProject(server.url);
  const run = await startRun(server.url, project.id, "bulk");
  const first = await follow(server.url, run.eventsUrl);
  assert.equal(first.status, 200);
  const big = first.events.find((e) => e.type === "progress" && e.progress.details.length >= 1_000_000);
  assert.ok(big, "the large note was streamed");
  // The run is over and out of memory (a window of 4): the resume reads the log.
  const resumed = await follow(server.url, run.eventsUrl, { after: big.seq - 1 });
  assert.equal(resumed.status, 200);
  assert.deepEqual(resumed.events, first.events.filter((e) => e.seq >= big.seq));
  assert.equal(resumed.events.at(-1)?.type, "result");
});

Deno.test("runs whose events hold two-byte text all end: one commit window never exceeds KV's commit size", async () => {
  // A curly quote makes KV store a string at two bytes a character: a commit
  // window counted in characters would pass 800 KB and fail again and again.
  const engine = new TestEngine({
    answer: () =>
      (async function* () {
        for (let i = 0; i < 3; i++) {
          yield { kind: "note" as const, message: "“Note”", details: "“é”".repeat(4_000) };
        }
        yield { kind: "token" as const, delta: "Done." };
      })(),
  });
  await using server = await startCustomServer({}, { engine });
  const projects = await Promise.all(
    Array.from({ length: 60 }, (_, i) => createProject(server.url, `p${i}`)),
  );
  const runs = await Promise.all(projects.map((p) => startRun(server.url, p.id, "hi")));
  const ends = await within(
    "every run to end",
    Promise.all(runs.map(async (run) => (await follow(server.url, run.eventsUrl)).events.at(-1)?.type)),
    60_000,
  );
  assert.deepEqual(new Set(ends), new Set(["result"]));
});
