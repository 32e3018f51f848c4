/**
 * Issue 13, "the log writer can never skip an event silently": a commit of
 * the run log that keeps failing is split run by run, so the other runs of
 * its window end normally, and the run whose own write cannot succeed ends
 * with exactly one logged terminal event, a `log_write_failed` error, with
 * its record ended (its unlogged events replaced by stand-ins, no seq lost).
 *
 * On the main of before this work, such a commit was retried forever: no run
 * of its window ever ended.
 */

import assert from "node:assert/strict";
import type { EngineNote, EngineToken } from "../lib/agent/engine.ts";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { RunEvent, RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { STAND_IN_MESSAGE } from "../lib/runs/stand_in.ts";
import { isTerminal } from "../lib/runs/outcome.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";
import { within } from "./helpers.ts";
import { TestEngine } from "./runs_helpers.ts";

interface Write {
  key: Deno.KvKey;
  value: unknown;
}

/** A KV whose atomic commits fail (as KV does, with an Error) when `fails` says so of their writes. */
function faultyKv(kv: Deno.Kv, fails: (writes: Write[]) => boolean, failed: Write[][]): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "atomic") return typeof value === "function" ? value.bind(target) : value;
      return () => {
        const op = target.atomic();
        const writes: Write[] = [];
        const wrapped: Deno.AtomicOperation = new Proxy(op, {
          get(o, name) {
            const member = Reflect.get(o, name, o);
            if (name === "commit") {
              return async () => {
                if (fails(writes)) {
                  failed.push(writes);
                  throw new TypeError("Value too large (the test's KV refuses this commit).");
                }
                return await o.commit();
              };
            }
            if (typeof member !== "function") return member;
            return (...args: unknown[]) => {
              if (name === "set") writes.push({ key: args[0] as Deno.KvKey, value: args[1] });
              const out = member.apply(o, args);
              return out === o ? wrapped : out;
            };
          },
        });
        return wrapped;
      };
    },
  });
}

/** Runs three messages at once over a KV that refuses what `fails` says; returns each run's events and record. */
async function runThree(
  fails: (writes: Write[]) => boolean,
  messages: string[],
  engine: LocalEngine | TestEngine = new LocalEngine({ paceMs: 0, tokenMs: 0 }),
) {
  const kv = await Deno.openKv(":memory:");
  const failed: Write[][] = [];
  const stores = createStores(faultyKv(kv, fails, failed));
  const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  try {
    const project = await stores.projects.create("Log faults");
    const started = await Promise.all(messages.map((m) => runs.start(project, m)));
    const followed = await Promise.all(started.map(async (run) => {
      const { feed, release } = await runs.open(project.id, run.id);
      const seen: RunEvent[] = [];
      await within(
        `run "${run.message}" to end for its follower`,
        (async () => {
          for await (const event of followEvents(feed, 0)) seen.push(event);
        })(),
      );
      release();
      return seen;
    }));
    const out = [];
    for (const [i, run] of started.entries()) {
      let record: RunRecord | null = null;
      await within(
        `the record of "${run.message}" to be ended`,
        (async () => {
          while ((record = await runs.get(project.id, run.id))?.status === "running") {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })(),
      );
      out.push({ id: run.id, live: followed[i]!, log: await runs.log.read(run.id, 0), record: record! });
    }
    return { runs: out, failed };
  } finally {
    await runs.close(0);
    kv.close();
  }
}

/** The run ids whose log a commit writes to. */
function runsOf(writes: Write[]): Set<string> {
  return new Set(writes.filter((w) => w.key[0] === "run_events").map((w) => String(w.key[1])));
}

function assertOneTerminalAtTheEnd(log: RunEvent[], what: string): void {
  assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1), `${what}: the log has no hole`);
  assert.equal(log.filter(isTerminal).length, 1, `${what}: one terminal event`);
  assert.ok(isTerminal(log.at(-1)!), `${what}: it is the last one`);
}

function assertUnaffected(run: { live: RunEvent[]; log: RunEvent[]; record: RunRecord }, what: string): void {
  assertOneTerminalAtTheEnd(run.log, what);
  assert.equal(run.log.at(-1)?.type, "result", `${what} ended with its result`);
  assert.equal(run.record.status, "succeeded", what);
  assert.deepEqual(run.log, run.live, `${what}: the log holds what its follower saw`);
}

Deno.test("a run whose final record cannot be written ends with a logged log_write_failed error; its window's other runs end normally", async () => {
  // The poisoned run's record, once it says succeeded, is a value KV refuses.
  const poisoned = (writes: Write[]) =>
    writes.some((w) =>
      w.key[0] === "runs" && (w.value as RunRecord | null)?.status === "succeeded" &&
      String((w.value as RunRecord).message).startsWith("Poison")
    );
  // The three runs write their answers at once, so their ends go out in one commit.
  const together = Promise.withResolvers<void>();
  let waiting = 0;
  const engine = new TestEngine({
    pace: (step) => {
      if (step !== "completion") return Promise.resolve();
      if (++waiting === 3) together.resolve();
      return together.promise;
    },
  }, new LocalEngine({ paceMs: 0, tokenMs: 0 }));
  const { runs, failed } = await runThree(poisoned, [
    "Poison: remember that tea is at 4",
    "Remember that the launch is on May 3",
    "Remember that Ana leads design",
  ], engine);
  const [bad, ...good] = runs;
  assert.ok(failed.length >= 5, `the poisoned commit was retried (${failed.length} failures)`);
  assert.ok(
    failed.some((w) => runsOf(w).size > 1 && runsOf(w).has(bad!.id)),
    "the poisoned run shared a failing commit with another run",
  );

  assertOneTerminalAtTheEnd(bad!.log, "the poisoned run");
  const last = bad!.log.at(-1)!;
  assert.equal(last.type === "error" && last.error.code, "log_write_failed");
  assert.match(last.type === "error" ? last.error.message : "", /could not be saved/);
  assert.equal(bad!.record.status, "failed");
  assert.equal(bad!.record.error?.code, "log_write_failed");
  assert.equal(bad!.record.result, null);
  // Its follower got that same ending, and no result before it.
  assert.deepEqual(bad!.live.at(-1), last);
  assert.equal(bad!.live.filter(isTerminal).length, 1);

  for (const [i, run] of good.entries()) assertUnaffected(run, `run ${i + 2}`);
});

Deno.test("a run whose event cannot be written has it replaced by a stand-in and ends with a logged log_write_failed error", async () => {
  const marker = "POISON-TOKEN";
  const engine = new TestEngine({
    plan: (ctx) => ctx.message.startsWith("Poison") ? [] : undefined,
    answer: (ctx) => {
      if (!ctx.message.startsWith("Poison")) return undefined;
      return (async function* (): AsyncGenerator<EngineNote | EngineToken, void, void> {
        yield { kind: "token", delta: "Before. " };
        yield { kind: "token", delta: `${marker} ` };
        yield { kind: "token", delta: "After." };
      })();
    },
  }, new LocalEngine({ paceMs: 0, tokenMs: 0 }));
  // Any log value holding the marker is refused.
  const poisoned = (writes: Write[]) =>
    writes.some((w) => w.key[0] === "run_events" && JSON.stringify(w.value).includes(marker));
  const { runs, failed } = await runThree(poisoned, [
    "Poison: answer with the marker",
    "Remember that the launch is on May 3",
    "Remember that Ana leads design",
  ], engine);
  const [bad, ...good] = runs;
  assert.ok(failed.length >= 5, `the poisoned commit was retried (${failed.length} failures)`);

  assertOneTerminalAtTheEnd(bad!.log, "the poisoned run");
  const last = bad!.log.at(-1)!;
  assert.equal(last.type === "error" && last.error.code, "log_write_failed");
  assert.equal(bad!.record.status, "failed");
  assert.equal(bad!.record.error?.code, "log_write_failed");
  // The follower saw the token live; the log holds a stand-in at its seq, never the refused value.
  const token = bad!.live.find((e) => e.type === "token" && e.delta.includes(marker));
  assert.ok(token, "the follower saw the token live");
  const standIn = bad!.log.find((e) => e.seq === token.seq);
  assert.equal(standIn?.type === "progress" && standIn.progress.message, STAND_IN_MESSAGE);
  assert.ok(!JSON.stringify(bad!.log).includes(marker));
  assert.deepEqual(bad!.live.at(-1), last, "the follower got the logged ending");

  for (const [i, run] of good.entries()) assertUnaffected(run, `run ${i + 2}`);
});

Deno.test("300 runs stopped at once end in commits KV takes: none is refused for its size, every run ends", async () => {
  const stores = createStores(await Deno.openKv(":memory:"));
  // Each run waits in its first step until it is stopped.
  const engine = new TestEngine({
    pace: (_step, signal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
  });
  const runs = new RunRegistry({ stores, engine, runTtlMs: 60_000, leaseMs: 10_000 });
  await runs.init();
  const refused: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => refused.push(args.map(String).join(" "));
  try {
    const project = await stores.projects.create("Mass stop");
    const started = await Promise.all(Array.from({ length: 300 }, (_, i) => runs.start(project, `Run ${i}`)));
    // A shutdown with no grace: all 300 end at once, each with its record, the index, the message's mark
    // and the conversation's edit count in the log writer's commits.
    await runs.close(0);
    assert.deepEqual(refused, [], "no log commit was refused");
    const ended = await Promise.all(started.map(async (r) =>
      (await stores.kv.get<RunRecord>(
        ["runs", project.id, r.id],
      )).value?.status
    ));
    assert.deepEqual(new Set(ended), new Set(["interrupted"]));
  } finally {
    console.error = original;
    stores.kv.close();
  }
});
