/**
 * Counts the KV calls one Lantern run makes, by who makes them: the run
 * registry and its log, the agent's steps (context, memory, the answer's
 * record), the HTTP routes. Lantern runs in this process with the scripted
 * engine on an in-memory KV; every `Deno.Kv` method and every atomic commit
 * is wrapped to count, and the caller is read from the stack.
 *
 * Run: `deno run --allow-all bench/kv_ops.ts [runs=50] [LANTERN_RUN_LOG=on|off]`.
 * It prints a Markdown table of calls per run.
 *
 * @module
 */

import { loadConfig } from "../lib/config.ts";
import { createLantern } from "../lib/server.ts";

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
  wrap(Deno.Kv.prototype, ["get", "getMany", "list", "set", "delete", "watch", "enqueue"], (n) => `kv.${n}`);
  wrap(Deno.AtomicOperation.prototype, ["commit"], () => "atomic.commit");
  const lantern = await createLantern(loadConfig({
    LANTERN_KV_PATH: ":memory:",
    LANTERN_ENGINE: "scripted",
    LANTERN_LIMITS: "off",
    LANTERN_RUN_LOG: runLog,
  }));
  const call = (path: string, body: unknown) =>
    lantern.fetch(
      new Request(`http://127.0.0.1${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  const project = await (await call("/api/projects", { name: "bench" })).json() as { id: string };
  // A first run warms up; counting starts after it.
  await (await call(`/api/projects/${project.id}/chat-stream`, { message: "warm up" })).text();
  counts.clear();
  for (let i = 0; i < runs; i++) {
    await (await call(`/api/projects/${project.id}/chat-stream`, { message: `run ${i}` })).text();
  }
  // Let background writes (the final record, the lease) land before counting stops.
  await new Promise((r) => setTimeout(r, 200));
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  console.log(`KV calls per run (${runs} scripted runs, LANTERN_RUN_LOG=${runLog}):\n`);
  console.log("| Call ← caller | Per run |\n| --- | --- |");
  for (const [key, n] of rows) console.log(`| ${key} | ${(n / runs).toFixed(2)} |`);
  const total = rows.reduce((a, [, n]) => a + n, 0);
  console.log(`| **All** | ${(total / runs).toFixed(2)} |`);
  await lantern.close(0);
}
