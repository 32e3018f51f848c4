/**
 * Lantern from two (or more) working trees, side by side: the peer phase's
 * N = 100 load (scripted engine, KV log on, server pinned to CPU 0 and the
 * client to CPU 1), each tree's own server in turn, the order reversed every
 * round. Whole-bench runs taken minutes apart differ by more than one change
 * moves them; alternating the trees in one sitting does not.
 *
 * Make the other tree with `git worktree add /tmp/before <commit>`.
 *
 * Run: `deno run --allow-all bench/compare_trees.ts /work/main /tmp/before [--rounds=3] [--runs=2000]
 * [--n=100] [--log=on|off]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runLoadPhase } from "./phases.ts";
import { LANTERN_BENCH_ENV, peerLoadOptions } from "./peer.ts";
import { summarize } from "./stats.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string" },
    runs: { type: "string" },
    n: { type: "string" },
    log: { type: "string" },
  },
});
if (positionals.length < 2) {
  throw new Error("Name at least two working trees to compare, got " + positionals.length);
}
const rounds = Number(values.rounds ?? 3);
const runs = Number(values.runs ?? 2000);
const n = Number(values.n ?? 100);
const env = { ...LANTERN_BENCH_ENV, LANTERN_RUN_LOG: values.log ?? "on" };
const tmpDir = await Deno.makeTempDir({ prefix: "lantern-compare-" });

const seen = new Map<string, { cpu: number[]; rss: number[]; ttfe: number[]; ttfe50: number[] }>();
for (let round = 0; round < rounds; round++) {
  for (const root of round % 2 === 0 ? positionals : [...positionals].reverse()) {
    const ctx = {
      root,
      message: "Plan the garden launch",
      tmpDir,
      kvMode: "file" as const,
      verbose: false,
      readyTimeoutMs: 20_000,
    };
    const result = await runLoadPhase(
      ctx,
      peerLoadOptions({
        id: `compare-${round}`,
        server: "lantern",
        env,
        n,
        runs,
        timeoutMs: 180_000,
        serverCpus: "0",
        clientCpus: "1",
      }),
    );
    if (!result.serverCost || result.lost > 0 || result.failed > 0) {
      throw new Error(
        `${root}: the load did not complete cleanly (${result.error ?? `${result.lost} lost`}).`,
      );
    }
    const cpu = (result.serverCost.cpuSeconds * 1000) / result.runs;
    const rss = result.serverCost.peakRssBytes / 1048576;
    const sides = seen.get(root) ?? { cpu: [], rss: [], ttfe: [], ttfe50: [] };
    sides.cpu.push(cpu);
    sides.rss.push(rss);
    sides.ttfe.push(result.ttfeMs.p99);
    sides.ttfe50.push(result.ttfeMs.p50);
    seen.set(root, sides);
    console.log(
      `round ${round + 1} ${root}: ${cpu.toFixed(3)} ms CPU per run, peak RSS ${rss.toFixed(0)} MiB, ` +
        `first-event p50 ${result.ttfeMs.p50.toFixed(1)} ms, p99 ${result.ttfeMs.p99.toFixed(1)} ms`,
    );
  }
}
await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
console.log(
  `\nMedians over ${rounds} rounds (N = ${n}, ${runs} runs a side, KV log ${env.LANTERN_RUN_LOG}):`,
);
for (const [root, { cpu, rss, ttfe, ttfe50 }] of seen) {
  console.log(
    `${root}: CPU per run ${summarize(cpu).p50.toFixed(3)} ms [${
      cpu.map((c) => c.toFixed(2)).join(", ")
    }], ` +
      `peak RSS ${summarize(rss).p50.toFixed(0)} MiB, first-event p50 ${
        summarize(ttfe50).p50.toFixed(1)
      } ms, ` +
      `p99 ${summarize(ttfe).p50.toFixed(1)} ms`,
  );
}
