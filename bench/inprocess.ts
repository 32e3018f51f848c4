/**
 * Lantern's own cost per run, in one process: no sockets, no load client.
 * It creates Lantern over a temp KV file with the scripted engine, sends
 * `POST …/chat-stream` to its `fetch` handler N at a time and reads each
 * answer to its end, then prints the process's CPU per run, split by thread
 * (the JS main thread, KV's SQLite threads, V8's GC workers), and the peak
 * RSS. A quick way to see what a change to the run's machinery costs before
 * running the peer phase; its figures are not comparable with the peer
 * phase's (no HTTP server, no client process).
 *
 * With `--alloc`, it also samples what the measured runs allocate (V8's
 * sampling heap profiler, see bench/alloc_profile.ts) and prints it per run,
 * in all and by the nearest repository file; the profiler slows the runs, so
 * take CPU figures from a run without it.
 *
 * Run: `deno run --allow-all bench/inprocess.ts [--n=100] [--rounds=20] [--log=on|off] [--alloc]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startInProcess } from "./in_process.ts";
import { ownThreadCpuMs } from "./proc_stats.ts";
import { type Allocations, startAllocations } from "./alloc_profile.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string" },
    rounds: { type: "string" },
    log: { type: "string" },
    alloc: { type: "boolean" },
  },
});
const n = Number(values.n ?? 100);
const rounds = Number(values.rounds ?? 20);
const log = values.log ?? "on";

const { createProjects, runEach, close } = await startInProcess({
  LANTERN_ENGINE: "scripted",
  LANTERN_RUN_LOG: log,
});

const projects = await createProjects(n);

// Warm-up: the JIT, the caches, each project's first read.
for (let r = 0; r < 3; r++) await runEach(projects);
const stopAllocations = values.alloc ? await startAllocations() : null;
let peakRss = 0;
const sampler = setInterval(() => peakRss = Math.max(peakRss, Deno.memoryUsage().rss), 20);
const before = ownThreadCpuMs();
const started = performance.now();
for (let r = 0; r < rounds; r++) await runEach(projects);
const wall = performance.now() - started;
const allocations: Allocations | null = stopAllocations ? await stopAllocations() : null;
const after = ownThreadCpuMs();
clearInterval(sampler);

const runs = n * rounds;
let total = 0;
const lines: string[] = [];
for (const [name, ms] of after) {
  const perRun = (ms - (before.get(name) ?? 0)) / runs;
  total += perRun;
  if (perRun >= 0.005) lines.push(`  ${name.padEnd(16)} ${perRun.toFixed(3)} ms`);
}
console.log(
  `${runs} runs, ${n} at a time, log ${log}: CPU ${total.toFixed(3)} ms per run, wall ${
    (wall / runs).toFixed(3)
  } ms per run, peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`,
);
console.log(lines.join("\n"));
if (allocations) {
  const kib = (bytes: number) => (bytes / runs / 1024).toFixed(1);
  console.log(`Allocated ${kib(allocations.totalBytes)} KiB per run (under the profiler); by nearest file:`);
  for (const { file, bytes } of allocations.byFile.slice(0, 15)) {
    console.log(`  ${kib(bytes).padStart(7)} KiB  ${file}`);
  }
}
await close();
