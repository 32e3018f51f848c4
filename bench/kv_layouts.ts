/**
 * What a run's writes cost in KV under other key layouts: a simulation of
 * the start and end commits of runs (ten runs a commit, 100 projects, on a
 * KV file with 2,000 runs of history), in CPU per run of the JS main thread,
 * KV's SQLite threads and all threads. It asks whether the project feed's
 * values cost less kept elsewhere or written fewer.
 *
 * Layouts: `today` (record, running index, message, two feed values and the
 * feed's head per commit), `no-feed` (no feed values or head), `beside`
 * (feed values under the project's messages), `prefix` (all of a project's
 * keys under one prefix), `per-append` (one feed value per append).
 *
 * Run: `deno run --allow-all bench/kv_layouts.ts [--rounds=2]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ownThreadCpuMs } from "./proc_stats.ts";

const LAYOUTS = ["today", "no-feed", "beside", "prefix", "per-append"] as const;
type Layout = typeof LAYOUTS[number];

const PROJECTS = 100;
const RUNS_PER_COMMIT = 10;
const HISTORY_RUNS = 2_000;
const MEASURED_RUNS = 4_000;
const TTL = { expireIn: 86_400_000 };

let clock = 0;
const newId = (prefix: string) => `${prefix}_${(Date.now() * 1000 + clock++).toString(36)}`;

/** Adds one run's start or end writes, as `layout` keeps them. */
function addRun(
  op: Deno.AtomicOperation,
  layout: Layout,
  heads: Map<string, number>,
  projectId: string,
  runId: string,
  end: boolean,
): void {
  const one = layout === "prefix";
  const message = {
    id: newId("m"),
    role: end ? "assistant" : "user",
    content: "Plan the garden launch ".repeat(3),
    createdAt: "2026-11-30T00:00:00.000Z",
    runId,
  };
  const record = { id: runId, projectId, status: end ? "succeeded" : "running", owner: "o1", step: null };
  op.set(one ? ["p", projectId, "r", runId] : ["runs", projectId, runId], record);
  if (end) op.delete(["running", "o1", runId]);
  else op.set(["running", "o1", runId], { projectId });
  op.set(one ? ["p", projectId, "m", message.id] : ["messages", projectId, message.id], message);
  if (layout === "no-feed") return;
  const changes = [
    { type: "message.added", message },
    end ? { type: "run.ended", runId, status: "succeeded" } : { type: "run.started", runId },
  ];
  const feedKey = (seq: number): Deno.KvKey =>
    layout === "beside"
      ? ["messages", projectId, seq]
      : one
      ? ["p", projectId, "f", seq]
      : ["feed", `project:${projectId}`, seq];
  let seq = heads.get(projectId) ?? 0;
  if (layout === "per-append") {
    seq += changes.length;
    op.set(feedKey(seq), changes.map((change) => ({ ...change, seq, ts: 0 })), TTL);
  } else {
    for (const change of changes) op.set(feedKey(++seq), { ...change, seq, ts: 0 }, TTL);
  }
  heads.set(projectId, seq);
  op.set(one ? ["p", projectId, "h"] : ["feed_head", `project:${projectId}`], seq);
}

/** CPU µs per run of each thread group for `layout`. */
async function measure(layout: Layout): Promise<{ main: number; sqlite: number; all: number }> {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const kv = await Deno.openKv(path);
  const heads = new Map<string, number>();
  const projects = Array.from({ length: PROJECTS }, (_, i) => `p_${(i * 7919).toString(36)}_${i}`);
  const runs = async (count: number) => {
    for (let i = 0; i < count; i += RUNS_PER_COMMIT) {
      const batch = Array.from({ length: RUNS_PER_COMMIT }, (_, j) => ({
        projectId: projects[(i + j) % PROJECTS]!,
        runId: newId("r"),
      }));
      for (const end of [false, true]) {
        const op = kv.atomic();
        for (const { projectId, runId } of batch) addRun(op, layout, heads, projectId, runId, end);
        // The run's log, as its terminal commit carries it.
        if (end) {
          for (const { runId } of batch) op.set(["run_events", runId, 92, 0], "x".repeat(16_000), TTL);
        }
        await op.commit();
      }
    }
  };
  try {
    await runs(HISTORY_RUNS);
    const before = ownThreadCpuMs();
    await runs(MEASURED_RUNS);
    const after = ownThreadCpuMs();
    const per = (thread: string) =>
      ((after.get(thread) ?? 0) - (before.get(thread) ?? 0)) * 1000 / MEASURED_RUNS;
    let all = 0;
    for (const [thread, ms] of after) all += (ms - (before.get(thread) ?? 0)) * 1000 / MEASURED_RUNS;
    return { main: per("main"), sqlite: per("sw-"), all };
  } finally {
    kv.close();
    await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
  const rounds = Number(values.rounds ?? 2);
  console.log("| Layout | JS main | SQLite | All (µs per run) |\n| --- | --- | --- | --- |");
  for (let round = 0; round < rounds; round++) {
    for (const layout of LAYOUTS) {
      const { main, sqlite, all } = await measure(layout);
      console.log(`| ${layout} | ${main.toFixed(0)} | ${sqlite.toFixed(0)} | ${all.toFixed(0)} |`);
    }
  }
}
