/**
 * Judges the issue's targets and renders the results as Markdown.
 *
 * @module
 */

import type { ProfileResult } from "./profile_phase.ts";
import { renderBreakdown } from "./profile_breakdown.ts";
import type { MachineInfo } from "./proc_stats.ts";
import type { HoldPhaseResult, LoadPhaseResult } from "./phases.ts";
import { ratio } from "./stats.ts";
import type { PeerReport } from "./peer.ts";
import { judgePeerTargets, renderPeer } from "./peer_report.ts";

/** Everything one harness run produced (the content of latest.json). */
export interface BenchReport {
  date: string;
  command: string;
  machine: MachineInfo;
  /** The server measured as "Lantern": `lantern` (main.ts) or `standin`. */
  subject: "lantern" | "standin";
  subjectNote: string;
  quick: boolean;
  kvMode: string;
  load: LoadPhaseResult[];
  durable: { n: number; off: LoadPhaseResult[]; on: LoadPhaseResult[] }[];
  idle: HoldPhaseResult | null;
  /** Chat streams, each starting its own run. */
  capacity: HoldPhaseResult | null;
  /** Followers (GET eventsUrl) of a few shared runs. */
  followers: HoldPhaseResult | null;
  /** The baseline holding the same number of open, silent streams. */
  capacityBaseline: HoldPhaseResult | null;
  /** Lantern beside the AI SDK peer and the bare floor (bench/peer.ts). */
  peer: PeerReport | null;
  /** CPU profiles under load (Lantern, then the peer), when asked for. */
  profiles: ProfileResult[];
  targets: Target[];
  notes: string[];
  wallSeconds: number;
  aborted: string | null;
}

/** The verdict on one target. */
export type Verdict = "pass" | "FAIL" | "inconclusive" | "not run";

/** One of the issue's targets with what was measured. */
export interface Target {
  name: string;
  threshold: string;
  measured: string;
  verdict: Verdict;
  why?: string;
}

const ms = (v: number | null | undefined, digits = 2) =>
  v == null || !Number.isFinite(v) ? "–" : `${v.toFixed(digits)} ms`;
const num = (v: number | null | undefined, digits = 0) =>
  v == null || !Number.isFinite(v)
    ? "–"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (v: number | null | undefined, digits = 0) =>
  v == null || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(digits)}%`;
const mib = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) || v === 0 ? "–" : `${(v / 2 ** 20).toFixed(1)} MiB`;
const kib = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) ? "–" : `${(v / 1024).toFixed(1)} KiB`;
const x = (v: number | null | undefined) => v == null || !Number.isFinite(v) ? "–" : `${v.toFixed(2)}×`;

/** Finds the load result of a server at a concurrency. */
export function findLoad(
  report: Pick<BenchReport, "load">,
  server: string,
  n: number,
): LoadPhaseResult | undefined {
  return report.load.find((r) => r.server === server && r.n === n);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Run time (POST to terminal event) of repeated phases, ms: the median of the
 * phases' mean run times, so one disturbed repeat does not decide.
 */
export function meanRunMs(phases: LoadPhaseResult[]): number {
  return median(phases.filter((p) => p.runMs.count > 0).map((p) => p.runMs.mean));
}

function disturbedIn(phases: LoadPhaseResult[]): number {
  return phases.filter((p) => (p.otherCores ?? 0) > DISTURBED_CORES).length;
}

/** Judges the issue's targets from the measured phases. */
export function judgeTargets(report: Omit<BenchReport, "targets">): Target[] {
  const subject = report.subject;
  const targets: Target[] = [];

  const single = findLoad(report, subject, 1);
  if (!single || !single.ok && single.runs === 0) {
    targets.push({
      name: "1 stream: delivery p99 ≤ 2 ms, TTFE p50 ≤ 5 ms",
      threshold: "p99 ≤ 2 ms, TTFE p50 ≤ 5 ms",
      measured: single?.error ?? "–",
      verdict: "not run",
    });
  } else {
    const pass = single.latencyMs.p99 <= 2 && single.ttfeMs.p50 <= 5 && single.ok;
    // Client lag only adds to receipt times: a pass holds, a failure proves nothing.
    const inconclusive = lagBound(single, single.latencyMs.p99) && !pass && single.ok;
    targets.push({
      name: "1 stream: delivery p99, TTFE p50",
      threshold: "p99 ≤ 2 ms, TTFE p50 ≤ 5 ms",
      measured: `p99 ${ms(single.latencyMs.p99)}, TTFE p50 ${ms(single.ttfeMs.p50)}`,
      verdict: inconclusive ? "inconclusive" : pass ? "pass" : "FAIL",
      why: [
        lagBound(single, single.latencyMs.p99) ? `client-bound: ${single.clientBoundReasons.join(", ")}` : "",
        single.ok ? "" : "runs failed",
        (single.otherCores ?? 0) > DISTURBED_CORES
          ? `other processes used ${single.otherCores!.toFixed(2)} cores during the phase`
          : "",
      ].filter(Boolean).join("; ") || undefined,
    });
  }

  for (const n of [100, 1000]) {
    const l = findLoad(report, subject, n);
    const b = findLoad(report, "baseline", n);
    const name = `${n} concurrent: events/s ≥ 0.7× baseline, p99 ≤ 1.5× baseline`;
    if (!l || !b || l.runs === 0 || b.runs === 0) {
      targets.push({
        name,
        threshold: "≥ 0.7×, ≤ 1.5×",
        measured: l?.error ?? b?.error ?? "–",
        verdict: "not run",
      });
      continue;
    }
    const eps = ratio(l.eventsPerSec, b.eventsPerSec) ?? 0;
    const p99 = ratio(l.latencyMs.p99, b.latencyMs.p99) ?? Infinity;
    const why: string[] = [];
    if (!l.ok) why.push(`${l.failed} runs failed`);
    // A client-bound baseline understates the baseline (fewer events/s, later
    // receipts): a ratio that fails on events/s still fails, one that passes
    // proves nothing, and its p99 is inflated so p99 ratios prove nothing
    // either way. The mirror image holds for a client-bound Lantern.
    const epsVerdict: Verdict = eps >= 0.7
      ? (b.throughputBound ? "inconclusive" : "pass")
      : (l.throughputBound ? "inconclusive" : "FAIL");
    const p99Verdict: Verdict = lagBound(b, b.latencyMs.p99) || (lagBound(l, l.latencyMs.p99) && p99 > 1.5)
      ? "inconclusive"
      : p99 <= 1.5
      ? "pass"
      : "FAIL";
    let verdict: Verdict = !l.ok || epsVerdict === "FAIL" || p99Verdict === "FAIL"
      ? "FAIL"
      : epsVerdict === "pass" && p99Verdict === "pass"
      ? "pass"
      : "inconclusive";
    for (const p of [l, b]) {
      if ((p.otherCores ?? 0) > DISTURBED_CORES) {
        why.push(`other processes used ${p.otherCores!.toFixed(2)} cores during the ${p.server} phase`);
      }
    }
    if (b.clientBound) why.push(`baseline client-bound (${b.clientBoundReasons.join(", ")})`);
    if (l.clientBound) why.push(`Lantern client-bound (${l.clientBoundReasons.join(", ")})`);
    if (verdict === "FAIL" && epsVerdict === "FAIL") {
      why.unshift("events/s below 0.7× even against an understated baseline");
    }
    if (!l.ok) verdict = "FAIL";
    targets.push({
      name,
      threshold: "events/s ≥ 0.7×, p99 ≤ 1.5×",
      measured: `events/s ${x(eps)}, p99 ${x(p99)}`,
      verdict,
      why: why.join("; ") || undefined,
    });
  }

  const idle = report.idle;
  if (!idle || !idle.window) {
    targets.push({
      name: "1000 idle streams: < 2% of a core, no per-stream wake-ups",
      threshold: "< 2%",
      measured: idle?.error ?? "–",
      verdict: "not run",
    });
  } else {
    const w = idle.window;
    const quiet = w.eventsInWindow === 0;
    const pass = w.cpuShare < 0.02 && quiet && idle.failed === 0;
    targets.push({
      name: `${w.streams} idle streams for ${w.seconds.toFixed(0)} s: CPU, wake-ups`,
      threshold: "< 2% of one core; nothing sent but keep-alives",
      measured: `${pct(w.cpuShare, 2)} of a core; ${num(w.bytesPerStream, 1)} B/stream, ${
        num(w.keepAlivesPerStream, 2)
      } keep-alives/stream, ${w.eventsInWindow} events`,
      verdict: pass ? "pass" : "FAIL",
      why: quiet ? undefined : "events arrived during the window (runs were not silent)",
    });
  }

  for (
    const [cap, what] of [[report.capacity, "chat streams (one run each)"], [
      report.followers,
      "followers of 10 runs",
    ]] as const
  ) {
    if (!cap || cap.steps.length === 0) {
      targets.push({
        name: `10,000 open ${what}, < 40 KB each`,
        threshold: "no error, < 40 KB",
        measured: cap?.error ?? "–",
        verdict: "not run",
      });
      continue;
    }
    const last = cap.steps.at(-1)!;
    const baseLast = report.capacityBaseline?.steps.at(-1);
    const pass = cap.ok && last.open >= 10_000 && last.bytesPerStream < 40_000 && cap.endedEarly === 0;
    const tooFew = last.target < 10_000;
    targets.push({
      name: `${num(cap.target)} open ${what}`,
      threshold: "10,000 without error, < 40 KB each",
      measured: `${num(last.open)} open, ${cap.failed} failed, ${kib(last.bytesPerStream)}/stream${
        baseLast ? ` (bare Deno.serve: ${kib(baseLast.bytesPerStream)}/stream)` : ""
      }`,
      verdict: tooFew ? "not run" : pass ? "pass" : "FAIL",
      why: tooFew ? "fewer than 10,000 tried (quick run)" : cap.errors[0],
    });
  }

  if (report.durable.length === 0) {
    targets.push({
      name: "durable runs ≤ 1.3× non-durable",
      threshold: "≤ 1.3×",
      measured: "–",
      verdict: "not run",
    });
  } else {
    for (const d of report.durable) {
      const r = ratio(meanRunMs(d.on), meanRunMs(d.off));
      const failed = [...d.on, ...d.off].some((p) => !p.ok);
      targets.push({
        name: `durable (run log on) run time at ${d.n} concurrent`,
        threshold: "≤ 1.3× of off",
        measured: `${x(r)} (${ms(meanRunMs(d.on))} vs ${ms(meanRunMs(d.off))})`,
        verdict: r == null || failed ? "FAIL" : r <= 1.3 ? "pass" : "FAIL",
        why: [
          failed ? "some runs failed" : "",
          disturbedIn([...d.on, ...d.off])
            ? `${disturbedIn([...d.on, ...d.off])} of ${
              d.on.length + d.off.length
            } phases disturbed by other processes`
            : "",
        ].filter(Boolean).join("; ") || undefined,
      });
    }
  }
  targets.push(...judgePeerTargets(report.peer));
  return targets;
}

/**
 * How a row depends on the client: `throughput` (capped by a saturated client
 * CPU), a latency figure in ms (inflated by client loop lag), or not at all.
 */
type Bound = "throughput" | { latency: (p: LoadPhaseResult) => number } | null;

/** Cores used by other processes above which a load phase counts as disturbed. */
export const DISTURBED_CORES = 0.15;

/** Share of a latency figure that client lag must reach for it to count as client-bound. */
const LAG_SHARE = 0.25;

/** Whether client lag is large enough to explain a latency figure (ms) of a phase. */
function lagBound(p: LoadPhaseResult, figureMs: number): boolean {
  return p.latencyBound && (p.clientCost?.lagP99MaxMs ?? 0) >= LAG_SHARE * figureMs;
}

function isBound(p: LoadPhaseResult | undefined, bound: Bound): boolean {
  if (!p || bound === null) return false;
  if (bound === "throughput") return p.throughputBound;
  // Lag of a few ms cannot explain a figure many times larger.
  return lagBound(p, bound.latency(p));
}

function cell(p: LoadPhaseResult | undefined, value: (p: LoadPhaseResult) => string, bound: Bound): string {
  if (!p) return "–";
  if (p.runs === 0) return "error";
  const v = value(p);
  return isBound(p, bound) ? `client-bound (${v})` : v;
}

/** A readable name for a server thread (kernel names are cut at 15 characters). */
function threadLabel(name: string): string {
  if (name === "main") return "JS main";
  if (name === "sw-") return "KV SQLite (sw-)";
  if (name.startsWith("V8 DefaultWorke")) return "V8 workers";
  if (name.startsWith("tokio")) return "tokio";
  return name;
}

/** The main thread's share of a profiled server's CPU per run, in µs (the other threads: KV, V8 workers, profiler). */
function mainCpuPerRunUs(p: ProfileResult): number {
  const total = Object.values(p.threadShares).reduce((a, v) => a + v, 0);
  return total > 0 ? (p.cpuPerRunMs * 1000 * (p.threadShares.main ?? 0)) / total : NaN;
}

/** Renders the report as Markdown (the results section of BENCHMARKS.md). */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  const subjectName = report.subject === "lantern"
    ? "Lantern (main.ts)"
    : "**stand-in (bench/standin_server.ts), not Lantern**";
  out.push(`### Results${report.quick ? " (quick run)" : ""}`, "");
  out.push(`- Date: ${report.date}`);
  out.push(`- Command: \`${report.command}\``);
  out.push(
    `- Machine: ${m.nproc} × ${m.cpuModel}, ${
      num(m.memTotalMiB)
    } MiB RAM, Linux ${m.kernel}, open files ${m.openFilesLimit}`,
  );
  out.push(`- Deno ${m.deno} (V8 ${m.v8}); server under test: ${subjectName}; KV: ${report.kvMode}`);
  if (report.subjectNote) out.push(`- ${report.subjectNote}`);
  out.push(
    `- Wall time: ${report.wallSeconds.toFixed(0)} s${
      report.aborted ? `; **aborted: ${report.aborted}**` : ""
    }`,
  );
  out.push("");

  out.push("#### Targets", "", "| Target | Threshold | Measured | Verdict |", "| --- | --- | --- | --- |");
  for (const t of report.targets) {
    out.push(
      `| ${t.name} | ${t.threshold} | ${t.measured} | ${
        t.verdict === "pass" ? "✅ pass" : t.verdict === "FAIL" ? "❌ FAIL" : t.verdict
      }${t.why ? ` — ${t.why}` : ""} |`,
    );
  }
  out.push("");

  const ns = [...new Set(report.load.map((r) => r.n))].sort((a, b) => a - b);
  if (ns.length) {
    out.push("#### Load (chat-stream, N concurrent runs)", "");
    const header = ["Metric"];
    for (const n of ns) {
      header.push(
        `N=${n} ${report.subject === "lantern" ? "Lantern" : "stand-in"}`,
        `N=${n} baseline`,
        `N=${n} ratio`,
      );
    }
    out.push(`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`);
    type Row = [
      string,
      (p: LoadPhaseResult) => string,
      ((l: LoadPhaseResult, b: LoadPhaseResult) => string) | null,
      Bound,
    ];
    const rows: Row[] = [
      ["Runs completed / run", (p) => `${p.completed} / ${p.runs}`, null, null],
      [
        "Events per run (bytes/event)",
        (p) => `${num(p.eventsPerRun, 1)} (${num(p.bytesPerEvent)})`,
        null,
        null,
      ],
      [
        "Lost / duplicated / out of order",
        (p) => `${p.lost} / ${p.duplicated} / ${p.outOfOrder}`,
        null,
        null,
      ],
      ["TTFE p50", (p) => ms(p.ttfeMs.p50), (l, b) => x(ratio(l.ttfeMs.p50, b.ttfeMs.p50)), {
        latency: (p) => p.ttfeMs.p50,
      }],
      ["TTFE p99", (p) => ms(p.ttfeMs.p99), (l, b) => x(ratio(l.ttfeMs.p99, b.ttfeMs.p99)), {
        latency: (p) => p.ttfeMs.p99,
      }],
      [
        "Delivery latency p50",
        (p) => ms(p.latencyMs.p50, 3),
        (l, b) => x(ratio(l.latencyMs.p50, b.latencyMs.p50)),
        { latency: (p) => p.latencyMs.p50 },
      ],
      [
        "Delivery latency p99",
        (p) => ms(p.latencyMs.p99, 3),
        (l, b) => x(ratio(l.latencyMs.p99, b.latencyMs.p99)),
        { latency: (p) => p.latencyMs.p99 },
      ],
      [
        "Delivery latency max",
        (p) => ms(p.latencyMs.max, 2),
        (l, b) => x(ratio(l.latencyMs.max, b.latencyMs.max)),
        { latency: (p) => p.latencyMs.max },
      ],
      [
        "Events/s delivered",
        (p) => num(p.eventsPerSec),
        (l, b) => x(ratio(l.eventsPerSec, b.eventsPerSec)),
        "throughput",
      ],
      [
        "Run time p50 (POST → terminal)",
        (p) => ms(p.runMs.p50),
        (l, b) => x(ratio(l.runMs.p50, b.runMs.p50)),
        { latency: (p) => p.runMs.p50 },
      ],
      [
        "Server CPU (s) / share of a core",
        (p) => p.serverCost ? `${p.serverCost.cpuSeconds.toFixed(2)} s / ${pct(p.serverCost.cpuShare)}` : "–",
        null,
        null,
      ],
      [
        "Server CPU per 1k events",
        (p) => p.serverCost && p.events ? ms((p.serverCost.cpuSeconds * 1e6) / p.events, 1) : "–",
        (l, b) =>
          x(ratio(
            l.serverCost && l.serverCost.cpuSeconds / l.events,
            b.serverCost && b.serverCost.cpuSeconds / b.events,
          )),
        null,
      ],
      [
        "Server CPU by thread (share of a core)",
        (p) =>
          p.serverCost
            ? Object.entries(p.serverCost.threadShares).sort((a, b) => b[1] - a[1]).map(([k, v]) =>
              `${threadLabel(k)} ${pct(v)}`
            ).join(", ")
            : "–",
        null,
        null,
      ],
      [
        "Server peak RSS (VmHWM)",
        (p) => mib(p.serverCost?.hwmBytes),
        (l, b) => x(ratio(l.serverCost?.hwmBytes, b.serverCost?.hwmBytes)),
        null,
      ],
      [
        "Client CPU (max) / lag p99",
        (p) => p.clientCost ? `${pct(p.clientCost.cpuShareMax)} / ${ms(p.clientCost.lagP99MaxMs, 1)}` : "–",
        null,
        null,
      ],
      [
        "Other processes' CPU (cores)",
        (p) =>
          p.otherCores == null
            ? "–"
            : `${p.otherCores.toFixed(2)}${p.otherCores > DISTURBED_CORES ? " ⚠ disturbed" : ""}`,
        null,
        null,
      ],
      [
        "Client-bound?",
        (p) =>
          p.clientBound
            ? `yes: ${p.clientBoundReasons.join(", ")}`
            : p.saturated
            ? "no (machine saturated)"
            : "no",
        null,
        null,
      ],
    ];
    for (const [label, value, rat, bound] of rows) {
      const cells = [label];
      for (const n of ns) {
        const l = findLoad(report, report.subject, n);
        const b = findLoad(report, "baseline", n);
        cells.push(cell(l, value, bound), cell(b, value, bound));
        const eitherBound = isBound(l, bound) || isBound(b, bound);
        cells.push(
          rat && l && b && l.runs && b.runs ? (eitherBound ? `client-bound (${rat(l, b)})` : rat(l, b)) : "",
        );
      }
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
    out.push(
      "Server CPU per 1k events is in CPU-milliseconds. ms: milliseconds; TTFE: POST sent → first data event received; delivery latency: receipt time − event `ts` (same machine clock).",
    );
    out.push("");
  }

  if (report.durable.length) {
    out.push("#### Durable run log (LANTERN_RUN_LOG on vs off)", "");
    out.push(
      "| N | Run time off | on | ratio | Each repeat off / on (mean run, ms) | Events/s off | on | Server CPU per 1k events off | on | Disturbed phases |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const d of report.durable) {
      const eps = (ps: LoadPhaseResult[]) => median(ps.map((p) => p.eventsPerSec));
      const cpuPerK = (ps: LoadPhaseResult[]) =>
        median(ps.map((p) => p.serverCost && p.events ? (p.serverCost.cpuSeconds * 1e6) / p.events : NaN));
      const each = (ps: LoadPhaseResult[]) => ps.map((p) => p.runMs.mean.toFixed(1)).join(", ");
      out.push(
        `| ${d.n} | ${ms(meanRunMs(d.off))} | ${ms(meanRunMs(d.on))} | ${
          x(ratio(meanRunMs(d.on), meanRunMs(d.off)))
        } | ${each(d.off)} / ${each(d.on)} | ${num(eps(d.off))} | ${num(eps(d.on))} | ${
          ms(cpuPerK(d.off), 1)
        } | ${ms(cpuPerK(d.on), 1)} | ${disturbedIn([...d.off, ...d.on])} of ${d.off.length + d.on.length} |`,
      );
    }
    out.push(
      "",
      "Run time is the median over repeats of each phase's mean run time (POST sent → terminal event).",
      "",
    );
  }

  if (report.idle) {
    const i = report.idle;
    out.push("#### Idle streams", "");
    if (i.error) out.push(`Error: ${i.error}`, "");
    const w = i.window;
    out.push("| Metric | Value |", "| --- | --- |");
    out.push(`| Streams open / failed / ended early | ${num(i.opened)} / ${i.failed} / ${i.endedEarly} |`);
    out.push(`| Server background CPU, no stream open | ${pct(i.backgroundCpuShare, 2)} of a core |`);
    if (w) {
      out.push(`| Window | ${w.seconds.toFixed(1)} s, ${num(w.streams)} streams |`);
      out.push(`| Server CPU in window | ${w.cpuSeconds.toFixed(3)} s = ${pct(w.cpuShare, 2)} of a core |`);
      out.push(`| Server context switches / s | ${num(w.ctxSwitchesPerSec, 1)} |`);
      out.push(
        `| Server threads that used CPU | ${
          Object.entries(w.threadShares).map(([k, v]) => `${threadLabel(k)} ${pct(v, 2)}`).join(", ") ||
          "none"
        } |`,
      );
      out.push(`| Bytes per stream in window | ${num(w.bytesPerStream, 1)} |`);
      out.push(`| Keep-alives per stream in window | ${num(w.keepAlivesPerStream, 2)} |`);
      out.push(`| Events in window (all streams) | ${num(w.eventsInWindow)} |`);
      out.push(`| Streams that received anything in window | ${num(w.streamsWoken)} |`);
    }
    out.push(
      `| Server RSS before / with streams | ${mib(i.rssReadyBytes)} / ${mib(i.steps.at(-1)?.rssBytes)} |`,
    );
    out.push(`| Client CPU (max) | ${pct(i.clientCost?.cpuShareMax)} |`);
    out.push(
      `| Env | ${
        Object.entries(i.env).filter(([k]) => k.startsWith("LANTERN_")).map(([k, v]) => `${k}=${v}`).join(" ")
      } |`,
    );
    out.push("");
  }

  for (
    const [c, title] of [
      [report.capacity, "chat streams, each starting its own run"],
      [report.followers, "followers (GET eventsUrl) of 10 shared runs"],
      [report.capacityBaseline, "baseline (bare Deno.serve) holding silent streams, for reference"],
    ] as const
  ) {
    if (!c) continue;
    out.push(`#### Capacity: ${title}`, "");
    if (c.error) out.push(`Error: ${c.error}`, "");
    out.push(
      "| Streams tried | Open | Failed | Time to open | Server RSS | RSS / stream | Server fds | Threads |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const s of c.steps) {
      out.push(
        `| ${num(s.target)} | ${num(s.open)} | ${num(s.failed)} | ${s.openSeconds.toFixed(1)} s | ${
          mib(s.rssBytes)
        } | ${kib(s.bytesPerStream)} | ${s.fds ?? "–"} | ${s.threads} |`,
      );
    }
    out.push("");
    out.push(
      `RSS before any stream: ${mib(c.rssReadyBytes)}; peak (VmHWM): ${
        mib(c.serverHwmBytes)
      }; streams ended early: ${c.endedEarly}; client processes: ${
        c.clientCost?.clients ?? "–"
      }, max client CPU ${pct(c.clientCost?.cpuShareMax)}.`,
    );
    if (c.errors.length) out.push("", `Errors: ${c.errors.slice(0, 3).join("; ")}`);
    out.push("");
  }

  if (report.peer) out.push(renderPeer(report.peer));

  for (const p of report.profiles) {
    const shares = Object.entries(p.threadShares).map(([t, v]) => `${threadLabel(t)} ${pct(v)}`).join(", ");
    out.push(
      `#### Where ${
        p.server === "peer" ? "the AI SDK peer's" : "Lantern's"
      } CPU goes (N=100, under --cpu-prof)`,
      "",
      `${p.runs} measured runs (+200 warm-up, in the profile too; ${
        (p.breakdown.startupMs / 1000).toFixed(1)
      } s of start-up before the first request left out); server CPU ${
        p.cpuPerRunMs.toFixed(2)
      } ms per run under the profiler (threads, share of a core: ${shares || "–"}). ` +
        "The main thread by bucket (bench/profile_breakdown.ts); its CPU per run is split by the buckets' shares:",
      "",
      renderBreakdown(p.breakdown, mainCpuPerRunUs(p)),
      "",
      "The same main-thread time by the nearest repository file on the stack (callees included):",
      "",
      renderBreakdown(p.breakdown, mainCpuPerRunUs(p), "caller"),
      "",
      p.markdown,
      "",
      `Profile file: \`${p.file}\` (open in Chrome DevTools → Performance).`,
      "",
    );
  }

  if (report.notes.length) {
    out.push("#### Notes", "");
    for (const note of report.notes) out.push(`- ${note}`);
    out.push("");
  }
  return out.join("\n");
}
