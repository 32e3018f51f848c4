/**
 * Judges issue 18's targets on the `peer` phase (bench/peer.ts) and renders
 * the comparison as Markdown: Lantern (scripted engine, KV log on and off)
 * beside the AI SDK peer on Node and the bare `Deno.serve` floor.
 *
 * @module
 */

import { DISTURBED_CORES, type Target } from "./report.ts";
import type { PeerReport, PeerSide } from "./peer.ts";
import type { LoadPhaseResult } from "./phases.ts";

/** One side's figures, the median over repeats (and the range). */
export interface SideFigures {
  phases: number;
  runs: number;
  completed: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  eventsPerRun: number;
  bytesPerEvent: number;
  /** Server CPU ms per run: median, min, max over repeats. */
  cpuPerRunMs: [number, number, number];
  /** Highest RSS sampled while the runs went (any repeat). */
  peakRssBytes: number;
  ttfeP99Ms: number;
  latencyP99Ms: number;
  /** Worst cores used by other processes during a repeat. */
  otherCores: number;
  /** Worst event-loop lag p99 of the load client (receipt times are this late). */
  clientLagP99Ms: number;
}

function median(values: number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A side's figures over its repeats, or null when it did not run.
 *
 * @example
 * ```ts
 * import { figures } from "./peer_report.ts";
 * console.log(figures([])); // null
 * ```
 */
export function figures(phases: LoadPhaseResult[]): SideFigures | null {
  if (phases.length === 0) return null;
  const sum = (f: (r: LoadPhaseResult) => number) => phases.reduce((a, r) => a + f(r), 0);
  const cpu = phases.map((r) => r.serverCost && r.runs ? (r.serverCost.cpuSeconds * 1000) / r.runs : NaN);
  const finite = cpu.filter(Number.isFinite);
  return {
    phases: phases.length,
    runs: sum((r) => r.runs),
    completed: sum((r) => r.completed),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    outOfOrder: sum((r) => r.outOfOrder),
    eventsPerRun: median(phases.map((r) => r.eventsPerRun)),
    bytesPerEvent: median(phases.map((r) => r.bytesPerEvent)),
    cpuPerRunMs: [median(cpu), Math.min(...finite), Math.max(...finite)],
    peakRssBytes: Math.max(0, ...phases.map((r) => r.serverCost?.peakRssBytes ?? 0)),
    ttfeP99Ms: median(phases.map((r) => r.ttfeMs.p99)),
    latencyP99Ms: median(phases.map((r) => r.latencyMs.p99)),
    otherCores: Math.max(0, ...phases.map((r) => r.otherCores ?? 0)),
    clientLagP99Ms: Math.max(0, ...phases.map((r) => r.clientCost?.lagP99MaxMs ?? 0)),
  };
}

const ms = (v: number, d = 2) => Number.isFinite(v) ? `${v.toFixed(d)} ms` : "–";
const mib = (b: number) => b > 0 ? `${(b / 2 ** 20).toFixed(0)} MiB` : "–";
const kib = (b: number) => Number.isFinite(b) && b > 0 ? `${(b / 1024).toFixed(1)} KiB` : "–";
const x = (a: number, b: number) => Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : "–";

type HoldSteps = { steps: { bytesPerStream: number; rssBytes: number; open: number }[] } | undefined;

/**
 * RSS per idle open stream of a hold phase, or NaN: the marginal cost from
 * its first step to its last ((RSS at the last − RSS at the first) / the
 * streams opened between), so that one-off costs of the first streams are
 * not spread over the rest; with one step, (RSS − RSS before any) / streams.
 */
function perStream(p: HoldSteps): number {
  const first = p?.steps[0], last = p?.steps.at(-1);
  if (!first || !last) return NaN;
  if (first === last) return last.bytesPerStream;
  return last.open > first.open ? (last.rssBytes - first.rssBytes) / (last.open - first.open) : NaN;
}

/** RSS per idle open stream counted from before any stream (the last step's), or NaN. */
function allInPerStream(p: HoldSteps): number {
  return p?.steps.at(-1)?.bytesPerStream ?? NaN;
}

function judge(name: string, threshold: string, value: number, limit: number, measured: string): Target {
  if (!Number.isFinite(value)) return { name, threshold, measured: "–", verdict: "not run" };
  return { name, threshold, measured, verdict: value <= limit ? "pass" : "FAIL" };
}

/**
 * Issue 18's targets, judged on the peer phase (none when it did not run).
 *
 * @example
 * ```ts
 * import { judgePeerTargets } from "./peer_report.ts";
 * console.log(judgePeerTargets(null)); // []
 * ```
 */
export function judgePeerTargets(peer: PeerReport | null): Target[] {
  if (!peer || peer.skipped) return [];
  const f = (side: PeerSide, single = false) => figures((single ? peer.single : peer.load)[side]);
  const on = f("lantern"), off = f("lanternLogOff"), p = f("peer"), floor1 = f("baseline", true);
  const on1 = f("lantern", true);
  const targets: Target[] = [];
  if (on && p) {
    const r = on.cpuPerRunMs[0] / p.cpuPerRunMs[0];
    targets.push(judge(
      "CPU per run, KV log on, vs the AI SDK peer",
      "≤ 1× the peer's",
      r,
      1,
      `${x(on.cpuPerRunMs[0], p.cpuPerRunMs[0])} (${ms(on.cpuPerRunMs[0])} vs ${ms(p.cpuPerRunMs[0])})`,
    ));
    const peak = on.peakRssBytes / p.peakRssBytes;
    targets.push(judge(
      "Peak RSS at 100 concurrent runs vs the peer",
      "≤ 1.5× the peer's",
      peak / 1.5,
      1,
      `${x(on.peakRssBytes, p.peakRssBytes)} (${mib(on.peakRssBytes)} vs ${mib(p.peakRssBytes)})`,
    ));
    targets.push(judge(
      "First-event p99 at 100 concurrent runs vs the peer",
      "≤ 1× the peer's",
      on.ttfeP99Ms / p.ttfeP99Ms,
      1,
      `${x(on.ttfeP99Ms, p.ttfeP99Ms)} (${ms(on.ttfeP99Ms)} vs ${ms(p.ttfeP99Ms)})`,
    ));
  }
  if (off && p) {
    targets.push(judge(
      "CPU per run, KV log off, vs the peer",
      "clearly below: ≤ 0.9× the peer's",
      off.cpuPerRunMs[0] / p.cpuPerRunMs[0] / 0.9,
      1,
      `${x(off.cpuPerRunMs[0], p.cpuPerRunMs[0])} (${ms(off.cpuPerRunMs[0])} vs ${ms(p.cpuPerRunMs[0])})`,
    ));
  }
  if (on1 && floor1) {
    targets.push(judge(
      "Per-event delivery p99 at 1 stream vs bare Deno.serve",
      "≤ 1.2× the floor's",
      on1.latencyP99Ms / floor1.latencyP99Ms / 1.2,
      1,
      `${x(on1.latencyP99Ms, floor1.latencyP99Ms)} (${ms(on1.latencyP99Ms, 3)} vs ${
        ms(floor1.latencyP99Ms, 3)
      })`,
    ));
  }
  if (peer.idle) {
    const l = perStream(peer.idle.lantern), b = perStream(peer.idle.baseline);
    targets.push(judge(
      "RSS per idle open stream vs bare Deno.serve",
      "≤ 1.1× the floor's",
      l / b / 1.1,
      1,
      `${x(l, b)} (${kib(l)} vs ${kib(b)})`,
    ));
  }
  const sides = [...Object.values(peer.load), ...Object.values(peer.single)].flat();
  if (sides.length) {
    const bad = sides.reduce((a, r) => a + r.lost + r.duplicated + r.outOfOrder + r.failed, 0);
    targets.push({
      name: "Peer phase: nothing lost, duplicated, out of order or failed (every side)",
      threshold: "0",
      measured: String(bad),
      verdict: bad === 0 ? "pass" : "FAIL",
    });
  }
  return targets;
}

const LABELS: Record<PeerSide, string> = {
  lantern: "Lantern, KV log on",
  lanternLogOff: "Lantern, KV log off",
  peer: "AI SDK peer",
  baseline: "bare Deno.serve",
};

const pinned = (cpus: string | undefined) => cpus === undefined ? "unpinned" : `pinned to CPU ${cpus}`;

/**
 * Renders the peer phase as Markdown (nothing when it did not run).
 *
 * @example
 * ```ts
 * import { renderPeer } from "./peer_report.ts";
 * console.log(renderPeer(null) === ""); // true
 * ```
 */
export function renderPeer(peer: PeerReport | null): string {
  if (!peer) return "";
  const out = ["### Beside the AI SDK peer and the bare floor (peer phase)", ""];
  if (peer.skipped) return [...out, `Skipped: ${peer.skipped}.`, ""].join("\n");
  out.push(
    `Lantern: \`LANTERN_ENGINE=scripted\`, \`LANTERN_LIMITS=off\`; peer: \`ai\` ${peer.ai} on Node ${peer.node} ` +
      `(bench/ai_sdk_peer/); floor: bench/baseline_server.ts. Servers ${pinned(peer.serverCpus)}, the load ` +
      `client ${pinned(peer.clientCpus)}; sides alternate, medians over repeats (CPU range in brackets).`,
    "",
  );
  const sides: PeerSide[] = ["lantern", "lanternLogOff", "peer", "baseline"];
  const load = Object.fromEntries(sides.map((s) => [s, figures(peer.load[s])])) as Record<
    PeerSide,
    SideFigures | null
  >;
  const single = Object.fromEntries(sides.map((s) => [s, figures(peer.single[s])])) as Record<
    PeerSide,
    SideFigures | null
  >;
  const p = load.peer;
  const other = Math.max(
    0,
    ...[...Object.values(load), ...Object.values(single)].map((f) => f?.otherCores ?? 0),
  );
  if (other > DISTURBED_CORES) {
    out.push(
      `**Disturbed:** other processes used up to ${
        other.toFixed(2)
      } cores during these phases; times are inflated and latencies are mostly queueing. Rerun on a quiet machine.`,
      "",
    );
  }
  out.push(
    `| N=${peer.concurrency} | Runs done / run | Events/run (B/event) | Lost / dup / order | CPU per run | vs peer | Peak RSS | vs peer | First event p99 | vs peer | Other cores | Client lag p99 |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of sides) {
    const f = load[s];
    if (!f) continue;
    out.push(
      `| ${LABELS[s]} | ${f.completed} / ${f.runs} | ${f.eventsPerRun.toFixed(1)} (${
        f.bytesPerEvent.toFixed(0)
      }) | ${f.lost} / ${f.duplicated} / ${f.outOfOrder} | ${ms(f.cpuPerRunMs[0], 3)} [${
        f.cpuPerRunMs[1].toFixed(3)
      }–${f.cpuPerRunMs[2].toFixed(3)}] | ${p ? x(f.cpuPerRunMs[0], p.cpuPerRunMs[0]) : "–"} | ${
        mib(f.peakRssBytes)
      } | ${p ? x(f.peakRssBytes, p.peakRssBytes) : "–"} | ${ms(f.ttfeP99Ms)} | ${
        p ? x(f.ttfeP99Ms, p.ttfeP99Ms) : "–"
      } | ${f.otherCores.toFixed(2)} | ${ms(f.clientLagP99Ms, 1)} |`,
    );
  }
  out.push("");
  const floor = single.baseline;
  out.push(
    "| N=1 | Runs done / run | Per-event delivery p99 | vs floor | First event p99 | CPU per run | Other cores | Client lag p99 |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of sides) {
    const f = single[s];
    if (!f) continue;
    out.push(
      `| ${LABELS[s]} | ${f.completed} / ${f.runs} | ${ms(f.latencyP99Ms, 3)} | ${
        floor ? x(f.latencyP99Ms, floor.latencyP99Ms) : "–"
      } | ${ms(f.ttfeP99Ms)} | ${ms(f.cpuPerRunMs[0], 3)} | ${f.otherCores.toFixed(2)} | ${
        ms(f.clientLagP99Ms, 1)
      } |`,
    );
  }
  out.push("");
  if (peer.idle) {
    const l = peer.idle.lantern, b = peer.idle.baseline;
    out.push(
      `Idle open streams (${l.steps.at(-1)?.open ?? 0} Lantern chat streams paused in a step, local engine; ${
        b.steps.at(-1)?.open ?? 0
      } silent bare Deno.serve streams): RSS per stream ${kib(perStream(l))} vs ${kib(perStream(b))} (${
        x(perStream(l), perStream(b))
      }), counted from the first ${l.steps[0]?.open ?? 0} streams on; from before any stream, ${
        kib(allInPerStream(l))
      } vs ${kib(allInPerStream(b))} (${x(allInPerStream(l), allInPerStream(b))}).${
        l.error || b.error ? ` Errors: ${[l.error, b.error].filter(Boolean).join("; ")}` : ""
      }`,
      "",
    );
  }
  const errors = [...Object.values(peer.load), ...Object.values(peer.single)].flat()
    .filter((r) => r.error).map((r) => `${r.id}: ${r.error}`);
  if (errors.length) out.push(`Errors: ${errors.slice(0, 4).join("; ")}`, "");
  return out.join("\n");
}
