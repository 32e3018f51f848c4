/**
 * The harness's phases: each starts a fresh server, runs load clients against
 * it, reads the server's counters at the clients' marks, stops everything and
 * returns plain figures.
 *
 * @module
 */

import type {
  ClientConfig,
  HoldClientConfig,
  HoldClientResult,
  LoadClientConfig,
  LoadClientResult,
} from "./client_protocol.ts";
import { runClients } from "./clients.ts";
import {
  countFds,
  type MachineCpu,
  ProcSampler,
  type ProcSnapshot,
  readMachineCpu,
  readProc,
  tryReadProc,
} from "./proc_stats.ts";
import { type ServerKind, startServer } from "./servers.ts";
import { nowMs, Samples, summarize, type Summary } from "./stats.ts";

/** When a client's own cost makes its figures unreliable. */
export const CLIENT_BOUND = {
  /** Share of one core above which a client counts as saturated. */
  cpuShare: 0.85,
  /** Event-loop lag p99 above which receipt times are late, ms. */
  lagP99Ms: 5,
};

/** Settings shared by every phase. */
export interface PhaseContext {
  root: string;
  message: string;
  /** Directory for KV files. */
  tmpDir: string;
  /** `:memory:` or `file` (a fresh temp file per server). */
  kvMode: "file" | ":memory:";
  verbose: boolean;
  /** How long a server may take to print "Listening on", ms. */
  readyTimeoutMs: number;
}

/** The server's cost over a measured span. */
export interface ServerCost {
  cpuSeconds: number;
  /** CPU seconds per wall second (1 = one core). */
  cpuShare: number;
  wallSeconds: number;
  rssStartBytes: number;
  /** Highest RSS sampled during the phase. */
  peakRssBytes: number;
  /** VmHWM at the end of the phase (peak over the process's life). */
  hwmBytes: number;
  ctxSwitchesPerSec: number;
  threads: number;
  /** CPU share of one core by thread name over the span (threads that used any). */
  threadShares: Record<string, number>;
}

/** CPU share by thread between two snapshots (threads that started later count from zero). */
export function threadShares(a: ProcSnapshot, b: ProcSnapshot): Record<string, number> {
  const wall = (b.at - a.at) / 1000;
  const out: Record<string, number> = {};
  if (wall <= 0) return out;
  for (const [name, cpu] of Object.entries(b.threadCpu)) {
    const share = (cpu - (a.threadCpu[name] ?? 0)) / wall;
    if (share > 0.005) out[name] = Math.round(share * 1000) / 1000;
  }
  return out;
}

/** The clients' cost over the measured span (worst client). */
export interface ClientsCost {
  clients: number;
  cpuShareMax: number;
  cpuShareSum: number;
  lagP99MaxMs: number;
  lagMaxMs: number;
  rssMaxBytes: number;
}

/** Result of one load phase (one server, one concurrency). */
export interface LoadPhaseResult {
  id: string;
  server: ServerKind;
  n: number;
  env: Record<string, string>;
  ok: boolean;
  error?: string;
  runs: number;
  completed: number;
  failed: number;
  errors: string[];
  events: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  incomplete: number;
  terminalTypes: Record<string, number>;
  eventsPerRun: number;
  bytesPerEvent: number;
  ttfeMs: Summary;
  latencyMs: Summary;
  runMs: Summary;
  eventsPerSec: number;
  spanSeconds: number;
  serverCost: ServerCost | null;
  clientCost: ClientsCost | null;
  /** Either of the two below. */
  clientBound: boolean;
  clientBoundReasons: string[];
  /** Events/s limited by a client's CPU. */
  throughputBound: boolean;
  /** Latency and TTFE delayed by a client's event loop. */
  latencyBound: boolean;
  /** Server + clients used ≥ 90% of all cores. */
  saturated: boolean;
  /**
   * Cores used by other processes on the machine during the measured span
   * (machine busy time − server − clients − harness), e.g. a test suite.
   */
  otherCores: number | null;
  wallSeconds: number;
}

/** Options of one load phase. */
export interface LoadPhaseOptions {
  id: string;
  server: ServerKind;
  env: Record<string, string>;
  n: number;
  clients: number;
  waves: number;
  minSeconds: number;
  maxWaves: number;
  warmupRuns: number;
  timeoutMs: number;
  route: "chat-stream" | "runs";
  /** Extra `deno run` flags for the server, such as `--cpu-prof`. */
  denoFlags?: string[];
  /** Cores to pin the server and the clients to (`taskset` lists), or unpinned. */
  serverCpus?: string;
  clientCpus?: string;
}

let kvCounter = 0;

function kvPath(ctx: PhaseContext, id: string): string {
  return ctx.kvMode === ":memory:" ? ":memory:" : `${ctx.tmpDir}/${id}-${++kvCounter}.kv`;
}

function split(total: number, parts: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < parts; i++) {
    out.push(Math.floor(total / parts) + (i < total % parts ? 1 : 0));
  }
  return out.filter((n) => n > 0);
}

function serverCost(a: ProcSnapshot, b: ProcSnapshot, sampler: ProcSampler): ServerCost {
  const wall = (b.at - a.at) / 1000;
  return {
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    cpuShare: wall > 0 ? (b.cpuSeconds - a.cpuSeconds) / wall : 0,
    wallSeconds: wall,
    rssStartBytes: a.rssBytes,
    peakRssBytes: Math.max(sampler.peakRssBytes, b.rssBytes),
    hwmBytes: b.hwmBytes,
    ctxSwitchesPerSec: wall > 0 ? (b.ctxSwitches - a.ctxSwitches) / wall : 0,
    threads: b.threads,
    threadShares: threadShares(a, b),
  };
}

function clientsCost(costs: { cpuShare: number; lagMs: Summary; rssBytes: number }[]): ClientsCost {
  return {
    clients: costs.length,
    cpuShareMax: Math.max(0, ...costs.map((c) => c.cpuShare)),
    cpuShareSum: costs.reduce((a, c) => a + c.cpuShare, 0),
    lagP99MaxMs: Math.max(0, ...costs.map((c) => c.lagMs.p99 || 0)),
    lagMaxMs: Math.max(0, ...costs.map((c) => c.lagMs.max || 0)),
    rssMaxBytes: Math.max(0, ...costs.map((c) => c.rssBytes)),
  };
}

function mergeSummaries(results: LoadClientResult[], key: "ttfe" | "latency" | "run"): Summary {
  const field = key === "ttfe" ? "ttfeMs" : key === "latency" ? "latencyMs" : "runMs";
  if (results.length === 1) return results[0]![field];
  const all = new Samples();
  for (const r of results) if (r.raw) all.pushAll(r.raw[key]);
  return summarize(all.toArray());
}

function emptySummary(): Summary {
  return { count: 0, min: NaN, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
}

/**
 * Judges whether clients limited a phase's figures: a saturated client CPU
 * caps throughput; event-loop lag delays receipt times (latency, TTFE).
 */
export function judgeClientBound(cost: ClientsCost | null): { throughput: string[]; latency: string[] } {
  const out = { throughput: [] as string[], latency: [] as string[] };
  if (!cost) return out;
  if (cost.cpuShareMax >= CLIENT_BOUND.cpuShare) {
    out.throughput.push(`client CPU ${(cost.cpuShareMax * 100).toFixed(0)}% of a core`);
  }
  if (cost.lagP99MaxMs > CLIENT_BOUND.lagP99Ms) {
    out.latency.push(`client loop lag p99 ${cost.lagP99MaxMs.toFixed(1)} ms`);
  }
  return out;
}

/** Runs one load phase: fresh server, warm-up, measured waves of `n` concurrent runs. */
export async function runLoadPhase(ctx: PhaseContext, o: LoadPhaseOptions): Promise<LoadPhaseResult> {
  const began = nowMs();
  const env = { ...o.env };
  if (o.server !== "baseline" && o.server !== "peer") env.LANTERN_KV_PATH = kvPath(ctx, o.id);
  const base: LoadPhaseResult = {
    id: o.id,
    server: o.server,
    n: o.n,
    env,
    ok: false,
    runs: 0,
    completed: 0,
    failed: 0,
    errors: [],
    events: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    incomplete: 0,
    terminalTypes: {},
    eventsPerRun: 0,
    bytesPerEvent: 0,
    ttfeMs: emptySummary(),
    latencyMs: emptySummary(),
    runMs: emptySummary(),
    eventsPerSec: 0,
    spanSeconds: 0,
    serverCost: null,
    clientCost: null,
    clientBound: false,
    clientBoundReasons: [],
    throughputBound: false,
    latencyBound: false,
    saturated: false,
    otherCores: null,
    wallSeconds: 0,
  };
  let server;
  try {
    server = await startServer({
      kind: o.server,
      root: ctx.root,
      env,
      readyTimeoutMs: ctx.readyTimeoutMs,
      denoFlags: o.denoFlags,
      cpus: o.serverCpus,
      stopGraceMs: o.denoFlags?.some((f) => f.startsWith("--cpu-prof")) ? 30_000 : undefined,
    });
  } catch (err) {
    return { ...base, error: (err as Error).message, wallSeconds: (nowMs() - began) / 1000 };
  }
  const sampler = new ProcSampler(server.pid, 100);
  const snaps: Record<string, ProcSnapshot> = {};
  const machine: Record<string, { cpu: MachineCpu; self: number }> = {};
  try {
    const parts = split(o.n, o.clients);
    const deadline = nowMs() + o.timeoutMs - 5000;
    const configs: LoadClientConfig[] = parts.map((concurrency, index) => ({
      kind: "load",
      host: "127.0.0.1",
      port: server!.port,
      route: o.route,
      message: ctx.message,
      bufferSize: 16 * 1024,
      connectBatch: 200,
      deadline,
      projectIds: [],
      projects: concurrency,
      index,
      concurrency,
      waves: o.waves,
      minSeconds: o.minSeconds,
      maxWaves: o.maxWaves,
      warmupRuns: Math.ceil(o.warmupRuns / parts.length),
      lagIntervalMs: 10,
      rawSamples: parts.length > 1,
      protocol: o.server === "peer" ? "ui-message" : "lantern",
    }));
    const outcome = await runClients({
      root: ctx.root,
      configs,
      timeoutMs: o.timeoutMs,
      verbose: ctx.verbose,
      cpus: o.clientCpus,
      onMark: (round) => {
        const snap = tryReadProc(server!.pid);
        if (snap) snaps[round.name] = snap;
        machine[round.name] = { cpu: readMachineCpu(), self: readProc(Deno.pid, false).cpuSeconds };
      },
    });
    const results = outcome.results.filter((r): r is LoadClientResult => r.kind === "load");
    const errors = [...outcome.errors];
    if (errors.length) errors.push(`server log: ${server.logTail.slice(-8).join(" | ")}`);
    if (outcome.timedOut) errors.push(`phase timed out after ${o.timeoutMs} ms`);
    if (results.length === 0) {
      return {
        ...base,
        error: errors.join("; ") || "no client result",
        errors,
        wallSeconds: (nowMs() - began) / 1000,
      };
    }
    const sum = (f: (r: LoadClientResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const events = sum((r) => r.events);
    const runs = sum((r) => r.runs);
    const firstSend = Math.min(...results.map((r) => r.firstSend || Infinity));
    const lastReceipt = Math.max(...results.map((r) => r.lastReceipt));
    const span = Number.isFinite(firstSend) ? (lastReceipt - firstSend) / 1000 : 0;
    const terminalTypes: Record<string, number> = {};
    for (const r of results) {
      for (const [k, v] of Object.entries(r.terminalTypes)) terminalTypes[k] = (terminalTypes[k] ?? 0) + v;
      errors.push(...r.errors);
      if (r.timedOut) errors.push(`client ${r.index} hit its deadline`);
    }
    const cCost = clientsCost(results.map((r) => r.cost));
    const sCost = snaps.start && snaps.end ? serverCost(snaps.start, snaps.end, sampler) : null;
    const reasons = judgeClientBound(cCost);
    const cores = navigator.hardwareConcurrency;
    let otherCores: number | null = null;
    if (sCost && machine.start && machine.end) {
      const wall = (machine.end.cpu.at - machine.start.cpu.at) / 1000;
      const busy = machine.end.cpu.busySeconds - machine.start.cpu.busySeconds;
      const self = machine.end.self - machine.start.self;
      const clients = results.reduce((a, r) => a + r.cost.cpuSeconds, 0);
      otherCores = wall > 0 ? Math.max(0, (busy - sCost.cpuSeconds - clients - self) / wall) : null;
    }
    return {
      ...base,
      ok: sum((r) => r.failed) === 0 && !outcome.timedOut && results.length === configs.length,
      runs,
      completed: sum((r) => r.completed),
      failed: sum((r) => r.failed),
      errors: errors.slice(0, 10),
      events,
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      outOfOrder: sum((r) => r.outOfOrder),
      incomplete: sum((r) => r.incomplete),
      terminalTypes,
      eventsPerRun: runs ? events / runs : 0,
      bytesPerEvent: events ? sum((r) => r.bytesPerEvent * r.events) / events : 0,
      ttfeMs: mergeSummaries(results, "ttfe"),
      latencyMs: mergeSummaries(results, "latency"),
      runMs: mergeSummaries(results, "run"),
      eventsPerSec: span > 0 ? events / span : 0,
      spanSeconds: span,
      serverCost: sCost,
      clientCost: cCost,
      clientBound: reasons.throughput.length + reasons.latency.length > 0,
      clientBoundReasons: [...reasons.throughput, ...reasons.latency],
      throughputBound: reasons.throughput.length > 0,
      latencyBound: reasons.latency.length > 0,
      saturated: sCost ? sCost.cpuShare + cCost.cpuShareSum >= 0.9 * cores : false,
      otherCores,
      wallSeconds: (nowMs() - began) / 1000,
    };
  } finally {
    sampler.stop();
    await server.stop();
  }
}

/** One step of a hold phase: streams open at a mark. */
export interface HoldStep {
  target: number;
  open: number;
  failed: number;
  rssBytes: number;
  /** (RSS now − RSS before any stream) / open streams. */
  bytesPerStream: number;
  fds: number | null;
  threads: number;
  /** Seconds from the previous mark (time to open this step's streams). */
  openSeconds: number;
}

/** Result of an idle or capacity phase. */
export interface HoldPhaseResult {
  id: string;
  server: ServerKind;
  env: Record<string, string>;
  ok: boolean;
  error?: string;
  errors: string[];
  target: number;
  opened: number;
  failed: number;
  endedEarly: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Server CPU share with projects made and no stream open. */
  backgroundCpuShare: number | null;
  rssReadyBytes: number;
  steps: HoldStep[];
  window: {
    seconds: number;
    streams: number;
    cpuShare: number;
    cpuSeconds: number;
    ctxSwitchesPerSec: number;
    bytesPerStream: number;
    eventsInWindow: number;
    keepAlivesPerStream: number;
    streamsWoken: number;
    threadShares: Record<string, number>;
  } | null;
  openMs: Summary;
  serverHwmBytes: number;
  clientCost: ClientsCost | null;
  wallSeconds: number;
}

/** Options of an idle or capacity phase. */
export interface HoldPhaseOptions {
  id: string;
  server: ServerKind;
  env: Record<string, string>;
  /** Cumulative totals across all clients, e.g. [1000, 5000, 10000]. */
  steps: number[];
  clients: number;
  settleMs: number;
  windowMs: number;
  /** Measures the server's background CPU for this long before opening streams. */
  backgroundMs: number;
  timeoutMs: number;
  route: "chat-stream" | "runs";
  /** Projects per client; streams share them round-robin. */
  projectsPerClient: (streams: number) => number;
  /** Streams follow one shared run per project instead of starting their own. */
  followers: boolean;
  /** Cores to pin the server and the clients to (`taskset` lists), or unpinned. */
  serverCpus?: string;
  clientCpus?: string;
}

/** Opens streams in steps and keeps them open: capacity, memory per stream, idle cost. */
export async function runHoldPhase(ctx: PhaseContext, o: HoldPhaseOptions): Promise<HoldPhaseResult> {
  const began = nowMs();
  const env = { ...o.env };
  if (o.server !== "baseline") env.LANTERN_KV_PATH = kvPath(ctx, o.id);
  const target = o.steps.at(-1) ?? 0;
  const base: HoldPhaseResult = {
    id: o.id,
    server: o.server,
    env,
    ok: false,
    errors: [],
    target,
    opened: 0,
    failed: 0,
    endedEarly: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    backgroundCpuShare: null,
    rssReadyBytes: 0,
    steps: [],
    window: null,
    openMs: emptySummary(),
    serverHwmBytes: 0,
    clientCost: null,
    wallSeconds: 0,
  };
  let server;
  try {
    server = await startServer({
      kind: o.server,
      root: ctx.root,
      env,
      readyTimeoutMs: ctx.readyTimeoutMs,
      cpus: o.serverCpus,
    });
  } catch (err) {
    return { ...base, error: (err as Error).message, wallSeconds: (nowMs() - began) / 1000 };
  }
  const sampler = new ProcSampler(server.pid, 250);
  const pid = server.pid;
  try {
    const stepsPerClient = o.steps.map((s) => split(s, o.clients));
    const deadline = nowMs() + o.timeoutMs - 5000;
    const configs: ClientConfig[] = Array.from({ length: o.clients }, (_, index): HoldClientConfig => {
      const steps = stepsPerClient.map((parts) => parts[index] ?? 0);
      return {
        kind: "hold",
        host: "127.0.0.1",
        port: server!.port,
        route: o.route,
        message: ctx.message,
        bufferSize: 2048,
        connectBatch: 100,
        deadline,
        projectIds: [],
        projects: o.projectsPerClient(steps.at(-1) ?? 0),
        index,
        steps,
        settleMs: o.settleMs,
        windowMs: o.windowMs,
        followers: o.followers,
      };
    });
    let ready: ProcSnapshot | null = null;
    let previousAt = 0;
    let windowStart: ProcSnapshot | null = null;
    let windowEnd: ProcSnapshot | null = null;
    let backgroundCpuShare: number | null = null;
    const steps: HoldStep[] = [];
    const outcome = await runClients({
      root: ctx.root,
      configs,
      timeoutMs: o.timeoutMs,
      verbose: ctx.verbose,
      cpus: o.clientCpus,
      onMark: async (round) => {
        if (round.name === "ready") {
          const a = readProc(pid);
          if (o.backgroundMs > 0) {
            await new Promise((r) => setTimeout(r, o.backgroundMs));
            const b = readProc(pid);
            backgroundCpuShare = (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);
          }
          ready = readProc(pid);
          previousAt = ready.at;
        } else if (round.name.startsWith("open-")) {
          const snap = readProc(pid);
          const open = round.marks.reduce((a, m) => a + (m.open ?? 0), 0);
          const failed = round.marks.reduce((a, m) => a + (m.failed ?? 0), 0);
          steps.push({
            target: o.steps[steps.length] ?? 0,
            open,
            failed,
            rssBytes: snap.rssBytes,
            bytesPerStream: ready && open > 0 ? (snap.rssBytes - ready.rssBytes) / open : 0,
            fds: countFds(pid),
            threads: snap.threads,
            openSeconds: (snap.at - previousAt) / 1000,
          });
          previousAt = snap.at;
          console.error(
            `  ${o.id}: ${open} open, ${failed} failed, RSS ${(snap.rssBytes / 2 ** 20).toFixed(0)} MiB`,
          );
        } else if (round.name === "window-start") {
          windowStart = readProc(pid);
        } else if (round.name === "window-end") {
          windowEnd = readProc(pid);
        }
      },
    });
    const results = outcome.results.filter((r): r is HoldClientResult => r.kind === "hold");
    const errors = [...outcome.errors];
    if (outcome.timedOut) errors.push(`phase timed out after ${o.timeoutMs} ms`);
    for (const r of results) errors.push(...r.errors);
    const sum = (f: (r: HoldClientResult) => number) => results.reduce((a, r) => a + f(r), 0);
    let window: HoldPhaseResult["window"] = null;
    const ws = windowStart as ProcSnapshot | null;
    const we = windowEnd as ProcSnapshot | null;
    if (ws && we && results.every((r) => r.window)) {
      const seconds = (we.at - ws.at) / 1000;
      const streams = sum((r) => r.window!.streams);
      window = {
        seconds,
        streams,
        cpuSeconds: we.cpuSeconds - ws.cpuSeconds,
        cpuShare: (we.cpuSeconds - ws.cpuSeconds) / seconds,
        ctxSwitchesPerSec: (we.ctxSwitches - ws.ctxSwitches) / seconds,
        bytesPerStream: streams ? sum((r) => r.window!.bytes) / streams : 0,
        eventsInWindow: sum((r) => r.window!.events),
        keepAlivesPerStream: streams ? sum((r) => r.window!.keepAlives) / streams : 0,
        streamsWoken: sum((r) => r.window!.streamsWoken),
        threadShares: threadShares(ws, we),
      };
    }
    const openAll = new Samples();
    for (const r of results) if (r.openMs.count) openAll.push(r.openMs.p50);
    const last = steps.at(-1);
    const final = tryReadProc(pid, false);
    return {
      ...base,
      ok: results.length === configs.length && sum((r) => r.failed) === 0 && !outcome.timedOut &&
        (last?.open ?? 0) >= target,
      errors: errors.slice(0, 10),
      opened: sum((r) => r.opened),
      failed: sum((r) => r.failed),
      endedEarly: sum((r) => r.endedEarly),
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      outOfOrder: sum((r) => r.outOfOrder),
      backgroundCpuShare,
      rssReadyBytes: (ready as ProcSnapshot | null)?.rssBytes ?? 0,
      steps,
      window,
      openMs: results.length === 1 ? results[0]!.openMs : summarize(openAll.toArray()),
      serverHwmBytes: final?.hwmBytes ?? sampler.peakRssBytes,
      clientCost: clientsCost(results.map((r) => r.cost)),
      wallSeconds: (nowMs() - began) / 1000,
    };
  } finally {
    sampler.stop();
    await server.stop();
  }
}
