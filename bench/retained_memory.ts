/**
 * The heap a finished run holds while its instance keeps it in memory for
 * late followers: scripted runs, 100 at a time, through a `RunRegistry`
 * with the log on, kept a minute (as every run was before issue 18's sixth
 * pass; `RETAIN_MS.unlogged` still, without the log) and not kept at all.
 * Each figure is the V8 heap after full collections, per run, across
 * `--runs` runs after a warm-up; the difference is what a kept run holds.
 *
 * Run: `deno run --allow-all --v8-flags=--expose-gc bench/retained_memory.ts [--runs=1000]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ScriptedEngine } from "../lib/agent/scripted_engine.ts";
import type { RunRecord } from "../lib/protocol.ts";
import { followEvents } from "../lib/runs/cursor.ts";
import { RETAIN_MS, RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Math.max(100, Math.round(Number(values.runs ?? 1000) / 100) * 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc: the heap is measured after full collections.");

async function heapAfterCollections(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

/** Heap per finished run, in bytes, with finished runs kept `retainMs`. */
async function heapPerRun(retainMs: number): Promise<number> {
  const dir = await Deno.makeTempDir();
  const stores = createStores(await Deno.openKv(`${dir}/retained.kv`));
  const registry = new RunRegistry({
    stores,
    engine: new ScriptedEngine(),
    runTtlMs: 24 * 60 * 60 * 1000,
    leaseMs: 30_000,
    retainMs,
  });
  await registry.init();
  const projects = await Promise.all(Array.from({ length: 100 }, (_, i) => stores.projects.create(`p${i}`)));
  const round = async () => {
    const started = await Promise.all(projects.map((p) => registry.start(p, "Hello there")));
    await Promise.all(started.map((run) => toEnd(registry, run)));
  };
  for (let i = 0; i < 3; i++) await round();
  const before = await heapAfterCollections();
  for (let i = 0; i < runs / 100; i++) await round();
  const after = await heapAfterCollections();
  await registry.close(0);
  stores.kv.close();
  await Deno.remove(dir, { recursive: true });
  return (after - before) / runs;
}

async function toEnd(registry: RunRegistry, run: RunRecord): Promise<void> {
  const { feed, release } = await registry.open(run.projectId, run.id);
  for await (const _ of followEvents(feed, 0)) { /* to the end */ }
  release();
}

const minute = await heapPerRun(RETAIN_MS.unlogged);
const none = await heapPerRun(0);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
console.log(`${runs} scripted runs, 100 at a time, log on; heap per run after full collections:`);
console.log(`  finished runs kept a minute: ${kb(minute)}`);
console.log(`  not kept:                    ${kb(none)}`);
console.log(`  a kept finished run holds about ${kb(minute - none)}`);
