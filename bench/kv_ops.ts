/**
 * Counts the KV calls one Lantern run makes, by who makes them: the run
 * registry and its log, the agent's steps (context, memory, the answer's
 * record), the HTTP routes. Lantern runs in this process with the scripted
 * engine on an in-memory KV; every `Deno.Kv` method and every atomic commit
 * is wrapped to count, and the caller is read from the stack.
 *
 * Run: `deno run --allow-all bench/kv_ops.ts [runs=50] [on|off (LANTERN_RUN_LOG)] [concurrency=1]`
 * (with concurrency, runs go in waves on as many projects, as the bench's N=100 does).
 * It prints a Markdown table of calls per run.
 *
 * @module
 */

import { startInProcess } from "./in_process.ts";

const counts = new Map<string, number>();
const ROOT = new URL("..", import.meta.url).href;

/** The first repository frame of the stack that is not a store: who asked for the KV call. */
function caller(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(3);
  for (const frame of frames) {
    const at = frame.indexOf(ROOT);
    if (at < 0 || frame.includes("/bench/")) continue;
    const file = frame.slice(at + ROOT.length).replace(/:\d+:\d+\)?$/, "");
    if (file.startsWith("lib/store/")) continue;
    const fn = /at (?:async )?([^\s(]+)/.exec(frame)?.[1] ?? "?";
    return `${file} ${fn}`;
  }
  return "(no repository frame)";
}

function wrap<T extends object>(proto: T, names: string[], label: (name: string) => string): void {
  for (const name of names) {
    const original = (proto as Record<string, unknown>)[name];
    if (typeof original !== "function") continue;
    (proto as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const key = `${label(name)} ← ${caller()}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? 50);
  const runLog = Deno.args[1] ?? "on";
  const concurrency = Math.max(1, Number(Deno.args[2] ?? 1));
  wrap(Deno.Kv.prototype, ["get", "getMany", "list", "set", "delete", "watch", "enqueue"], (n) => `kv.${n}`);
  wrap(Deno.AtomicOperation.prototype, ["commit"], () => "atomic.commit");
  const { createProjects, runEach, close } = await startInProcess({
    LANTERN_KV_PATH: ":memory:",
    LANTERN_ENGINE: "scripted",
    LANTERN_RUN_LOG: runLog,
  });
  const projects = await createProjects(concurrency);
  // A first wave warms up; counting starts after it.
  await runEach(projects);
  counts.clear();
  const waves = Math.max(1, Math.round(runs / concurrency));
  for (let i = 0; i < waves; i++) await runEach(projects);
  // Let background writes (the final record, the lease) land before counting stops.
  await new Promise((r) => setTimeout(r, 200));
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const done = waves * concurrency;
  console.log(
    `KV calls per run (${done} scripted runs, ${concurrency} at a time, LANTERN_RUN_LOG=${runLog}):\n`,
  );
  console.log("| Call ← caller | Per run |\n| --- | --- |");
  for (const [key, n] of rows) console.log(`| ${key} | ${(n / done).toFixed(2)} |`);
  const total = rows.reduce((a, [, n]) => a + n, 0);
  console.log(`| **All** | ${(total / done).toFixed(2)} |`);
  await close();
}
