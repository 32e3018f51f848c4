/**
 * Lantern's load-benchmark harness. Starts each server under test as a child
 * process on 127.0.0.1, drives it from separate load-client processes, and
 * writes bench/results/latest.json and bench/results/latest.md.
 *
 * Usage: `deno run --allow-all bench/run.ts [--quick] [--only=load,durable,idle,capacity,profile]
 * [--server=auto|lantern|standin] [--clients=1] [--kv=file|memory] [--n=1,100,1000]
 * [--capacity=1000,5000,10000] [--idle-streams=1000] [--idle-pace=30000] [--wait-quiet=SECONDS]
 * [--nice=-10] [--budget=SECONDS] [--verbose]`
 *
 * `profile` (opt-in) runs the server under `--cpu-prof` at N=100 and
 * summarises the top functions into the report.
 *
 * Everything is bounded: each phase has a timeout, the whole run has a budget
 * (9.5 minutes, 4 in quick mode), and children die with the harness.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { machineInfo, readMachineCpu, readProc } from "./proc_stats.ts";
import {
  type HoldPhaseResult,
  type LoadPhaseResult,
  type PhaseContext,
  runHoldPhase,
  runLoadPhase,
} from "./phases.ts";
import { type BenchReport, judgeTargets, renderMarkdown } from "./report.ts";
import { killAll, setNiceness } from "./servers.ts";
import { makeEventBuilder } from "./fake_events.ts";
import { nowMs } from "./stats.ts";
import { renderProfile, summarizeProfileFile } from "./cpu_profile.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PHASES = ["load", "durable", "idle", "capacity", "profile"] as const;
/** Phases run when `--only` is not given (profile is opt-in). */
const DEFAULT_PHASES = ["load", "durable", "idle", "capacity"] as const;
type Phase = typeof PHASES[number];

/** Parsed command-line options. */
export interface Options {
  quick: boolean;
  only: Set<Phase>;
  server: "auto" | "lantern" | "standin";
  clients: number;
  kv: "file" | "memory";
  verbose: boolean;
  loadNs: number[];
  capacitySteps: number[];
  idleStreams: number;
  idlePaceMs: number;
  /** Before each phase, wait up to this long for other processes to use < 0.3 cores. */
  waitQuietSeconds: number;
  /** Niceness of servers and clients (e.g. -10 on a shared machine; needs root). */
  nice: number;
  budgetSeconds: number;
  outDir: string;
}

/** Parses the command line. */
export function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      server: { type: "string", default: "auto" },
      clients: { type: "string", default: "1" },
      kv: { type: "string", default: "file" },
      verbose: { type: "boolean", default: false },
      n: { type: "string" },
      capacity: { type: "string" },
      "idle-streams": { type: "string", default: "1000" },
      "idle-pace": { type: "string", default: "30000" },
      "wait-quiet": { type: "string", default: "0" },
      nice: { type: "string", default: "0" },
      budget: { type: "string" },
      out: { type: "string", default: `${ROOT}/bench/results` },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const only = new Set<Phase>(
    (values.only ?? DEFAULT_PHASES.join(",")).split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      if (!(PHASES as readonly string[]).includes(s)) throw new Error(`--only: unknown phase "${s}"`);
      return s as Phase;
    }),
  );
  const list = (s: string | undefined, fallback: number[]) => s ? s.split(",").map(Number) : fallback;
  const server = values.server as Options["server"];
  if (!["auto", "lantern", "standin"].includes(server)) throw new Error(`--server: ${server}`);
  return {
    quick,
    only,
    server,
    clients: Math.max(1, Number(values.clients)),
    kv: values.kv === "memory" ? "memory" : "file",
    verbose: values.verbose ?? false,
    loadNs: list(values.n, [1, 100, 1000]),
    capacitySteps: list(values.capacity, quick ? [1000, 2000] : [1000, 5000, 10000]),
    idleStreams: Number(values["idle-streams"]),
    idlePaceMs: Number(values["idle-pace"]),
    waitQuietSeconds: Number(values["wait-quiet"]),
    nice: Number(values.nice),
    budgetSeconds: Number(values.budget ?? (quick ? 240 : 570)),
    outDir: values.out!,
  };
}

/** Baseline settings that match a Lantern run's event count and size. */
export function baselineEnvFor(lantern: LoadPhaseResult | undefined): Record<string, string> {
  if (!lantern || lantern.runs === 0 || lantern.eventsPerRun < 2) return {};
  const total = Math.max(2, Math.round(lantern.eventsPerRun));
  const tokens = Math.max(0, Math.min(10, total - 17));
  const progress = total - 1 - tokens;
  // Bytes a run of the baseline takes without padding: events + chunk framing + ~140 B of headers.
  const build = makeEventBuilder("r_0000000000000000", progress, tokens, 0);
  let bytes = 140;
  for (let seq = 1; seq <= total; seq++) {
    const event = build(seq);
    event.ts = nowMs();
    const body = `id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`.length;
    bytes += body + body.toString(16).length + 4;
  }
  const wanted = lantern.bytesPerEvent * total;
  const pad = progress > 0 ? Math.max(0, Math.round((wanted - bytes) / progress)) : 0;
  return { BASELINE_PROGRESS: String(progress), BASELINE_TOKENS: String(tokens), BASELINE_PAD: String(pad) };
}

/** Cores used by processes other than this one, over `ms`. */
async function otherCores(ms: number): Promise<number> {
  const a = readMachineCpu();
  const selfA = readProc(Deno.pid, false).cpuSeconds;
  await new Promise((r) => setTimeout(r, ms));
  const b = readMachineCpu();
  const self = readProc(Deno.pid, false).cpuSeconds - selfA;
  return Math.max(0, (b.busySeconds - a.busySeconds - self) / ((b.at - a.at) / 1000));
}

function summarizeSteps(r: HoldPhaseResult): string {
  const steps = r.steps.map((s) => `${s.open} open @ ${(s.bytesPerStream / 1024).toFixed(1)} KiB`).join(", ");
  return `${steps}${r.error ? ` ERROR ${r.error}` : ""}`;
}

async function main(): Promise<number> {
  const started = nowMs();
  const opts = parseOptions(Deno.args);
  setNiceness(opts.nice);
  const command = `deno run --allow-all bench/run.ts ${Deno.args.join(" ")}`.trim();
  const notes: string[] = [];

  let subject: "lantern" | "standin" = "standin";
  let subjectNote = "";
  const hasMain = await Deno.stat(`${ROOT}/main.ts`).then(() => true, () => false);
  if (opts.server === "lantern" || (opts.server === "auto" && hasMain)) subject = "lantern";
  if (opts.server === "auto" && !hasMain) {
    subjectNote = "main.ts does not exist yet: every 'Lantern' figure below is the stand-in's.";
  }

  const tmpDir = await Deno.makeTempDir({ prefix: "lantern-bench-" });
  const ctx: PhaseContext = {
    root: ROOT,
    message: "remember that the bench runs at noon",
    tmpDir,
    kvMode: opts.kv === "memory" ? ":memory:" : "file",
    verbose: opts.verbose,
    readyTimeoutMs: 90_000,
  };
  const common: Record<string, string> = {
    LANTERN_LOCAL_PACE_MS: "0",
    LANTERN_LOCAL_TOKEN_MS: "0",
    LANTERN_LIMITS: "off",
  };

  const report: Omit<BenchReport, "targets"> = {
    date: new Date().toISOString(),
    command,
    machine: machineInfo(),
    subject,
    subjectNote,
    quick: opts.quick,
    kvMode: ctx.kvMode === "file" ? "temp file per server" : ":memory:",
    load: [],
    durable: [],
    idle: null,
    capacity: null,
    followers: null,
    capacityBaseline: null,
    profile: null,
    notes,
    wallSeconds: 0,
    aborted: null,
  };

  if (opts.nice !== 0) notes.push(`Servers and clients ran at niceness ${opts.nice} (--nice).`);
  // How busy is the machine before we start? Other work (a test suite) skews every figure.
  const before = await otherCores(1000);
  notes.push(
    `Before the run, other processes used ${before.toFixed(2)} of ${navigator.hardwareConcurrency} cores.`,
  );
  if (before > 0.15) {
    console.error(`warning: the machine is busy (${before.toFixed(2)} cores used by other processes)`);
  }
  /** With --wait-quiet, waits (bounded) until other processes leave the machine mostly idle. */
  const waitQuiet = async () => {
    const until = nowMs() + opts.waitQuietSeconds * 1000;
    while (nowMs() < until) {
      const other = await otherCores(1000);
      if (other < 0.3) return;
      console.error(`  waiting for a quiet machine (other processes: ${other.toFixed(2)} cores)`);
    }
  };

  const budgetEnd = started + opts.budgetSeconds * 1000;
  const remaining = () => budgetEnd - nowMs();
  const finish = async (aborted: string | null) => {
    report.aborted = aborted;
    report.wallSeconds = (nowMs() - started) / 1000;
    const full: BenchReport = { ...report, targets: judgeTargets(report) };
    await Deno.mkdir(opts.outDir, { recursive: true });
    await Deno.writeTextFile(`${opts.outDir}/latest.json`, JSON.stringify(full, null, 2) + "\n");
    const md = renderMarkdown(full);
    await Deno.writeTextFile(`${opts.outDir}/latest.md`, md);
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    console.log(md);
    console.error(`wrote ${opts.outDir}/latest.json and latest.md`);
  };

  // Whole-run watchdog: kill every child and write what we have.
  let abortedBy: string | null = null;
  const watchdog = setTimeout(() => {
    abortedBy = `budget of ${opts.budgetSeconds} s exceeded`;
    console.error(abortedBy);
    killAll();
  }, opts.budgetSeconds * 1000);
  const onSignal = () => {
    abortedBy = "interrupted";
    killAll();
    finish(abortedBy).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  /** Time left for a phase: its own cap, or what remains of the budget. */
  const cap = (ms: number) => Math.max(5_000, Math.min(ms, remaining() - 5_000));
  const log = (s: string) => console.error(`[bench ${((nowMs() - started) / 1000).toFixed(0)}s] ${s}`);

  try {
    if (opts.only.has("load")) {
      for (const n of opts.loadNs) {
        if (abortedBy || remaining() < 20_000) break;
        const plan = n === 1
          ? {
            waves: opts.quick ? 30 : 100,
            minSeconds: 0,
            maxWaves: opts.quick ? 30 : 100,
            warmup: 20,
            timeout: 60_000,
          }
          : n <= 100
          ? {
            waves: opts.quick ? 2 : 5,
            minSeconds: opts.quick ? 1 : 6,
            maxWaves: 100,
            warmup: 2 * n,
            timeout: 90_000,
          }
          : {
            waves: opts.quick ? 1 : 3,
            minSeconds: opts.quick ? 0 : 6,
            maxWaves: 10,
            warmup: Math.min(n, 500),
            timeout: 150_000,
          };
        const clients = Math.min(opts.clients, n);
        for (const server of [subject, "baseline"] as const) {
          const env = server === "baseline"
            ? baselineEnvFor(report.load.find((r) => r.server === subject && r.n === n))
            : { ...common };
          log(`load ${server} N=${n}`);
          if (opts.waitQuietSeconds > 0) await waitQuiet();
          const result = await runLoadPhase(ctx, {
            id: `load-${server}-${n}`,
            server,
            env,
            n,
            clients,
            waves: plan.waves,
            minSeconds: plan.minSeconds,
            maxWaves: plan.maxWaves,
            warmupRuns: plan.warmup,
            timeoutMs: cap(plan.timeout),
            route: "chat-stream",
          });
          report.load.push(result);
          log(
            `  ${result.completed}/${result.runs} runs, ${result.eventsPerSec.toFixed(0)} ev/s, p99 ${
              result.latencyMs.p99.toFixed(3)
            } ms${result.clientBound ? " (client-bound)" : ""}${
              result.error ? ` ERROR ${result.error}` : ""
            }`,
          );
        }
      }
    }

    if (opts.only.has("durable") && !abortedBy) {
      const ns = opts.quick ? [1, 100] : [1, 100];
      const repeats = opts.quick ? 1 : 4;
      for (const n of ns) {
        const entry = { n, off: [] as LoadPhaseResult[], on: [] as LoadPhaseResult[] };
        report.durable.push(entry);
        for (let rep = 0; rep < repeats; rep++) {
          // Alternate the order so drift does not favour one side.
          const order = rep % 2 === 0 ? ["off", "on"] as const : ["on", "off"] as const;
          for (const log_ of order) {
            if (abortedBy || remaining() < 20_000) break;
            log(`durable N=${n} run log ${log_} (#${rep + 1})`);
            if (opts.waitQuietSeconds > 0) await waitQuiet();
            const result = await runLoadPhase(ctx, {
              id: `durable-${log_}-${n}-${rep}`,
              server: subject,
              env: { ...common, LANTERN_RUN_LOG: log_ },
              n,
              clients: 1,
              waves: n === 1 ? (opts.quick ? 20 : 40) : (opts.quick ? 2 : 5),
              minSeconds: 0,
              maxWaves: n === 1 ? 40 : 5,
              warmupRuns: n === 1 ? 10 : n,
              timeoutMs: cap(90_000),
              route: "chat-stream",
            });
            entry[log_].push(result);
            log(
              `  mean run ${result.runMs.mean.toFixed(2)} ms${result.error ? ` ERROR ${result.error}` : ""}`,
            );
          }
        }
      }
    }

    if (opts.only.has("idle") && !abortedBy && remaining() > 30_000) {
      log(`idle: ${opts.idleStreams} streams, pace ${opts.idlePaceMs} ms`);
      if (opts.waitQuietSeconds > 0) await waitQuiet();
      report.idle = await runHoldPhase(ctx, {
        id: "idle",
        server: subject,
        env: { ...common, LANTERN_LOCAL_PACE_MS: String(opts.idlePaceMs) },
        steps: [opts.idleStreams],
        clients: 1,
        settleMs: 2000,
        windowMs: opts.quick ? 5000 : 10_000,
        backgroundMs: opts.quick ? 2000 : 3000,
        timeoutMs: cap(90_000),
        route: "chat-stream",
        projectsPerClient: (streams) => streams,
        followers: false,
      });
      const w = report.idle.window;
      log(
        `  ${report.idle.opened} open; window CPU ${w ? (w.cpuShare * 100).toFixed(2) : "–"}%${
          report.idle.error ? ` ERROR ${report.idle.error}` : ""
        }`,
      );
    }

    if (opts.only.has("capacity") && !abortedBy && remaining() > 30_000) {
      log(`capacity: ${opts.capacitySteps.join(", ")} chat streams, one run each`);
      if (opts.waitQuietSeconds > 0) await waitQuiet();
      report.capacity = await runHoldPhase(ctx, {
        id: "capacity",
        server: subject,
        env: { ...common, LANTERN_LOCAL_PACE_MS: "120000" },
        steps: opts.capacitySteps,
        clients: Math.max(2, opts.clients),
        settleMs: 1000,
        windowMs: 0,
        backgroundMs: 0,
        timeoutMs: cap(180_000),
        route: "chat-stream",
        projectsPerClient: (streams) => streams,
        followers: false,
      });
      log(`  ${summarizeSteps(report.capacity)}`);
    }
    if (opts.only.has("capacity") && !abortedBy && remaining() > 30_000) {
      const runs = 10;
      log(`capacity: ${opts.capacitySteps.join(", ")} followers of ${runs} runs`);
      if (opts.waitQuietSeconds > 0) await waitQuiet();
      report.followers = await runHoldPhase(ctx, {
        id: "followers",
        server: subject,
        env: { ...common, LANTERN_LOCAL_PACE_MS: "120000" },
        steps: opts.capacitySteps,
        clients: Math.max(2, opts.clients),
        settleMs: 1000,
        windowMs: 0,
        backgroundMs: 0,
        timeoutMs: cap(120_000),
        route: "runs",
        projectsPerClient: () => runs / 2,
        followers: true,
      });
      log(`  ${summarizeSteps(report.followers)}`);
    }
    if (opts.only.has("capacity") && !abortedBy && remaining() > 30_000) {
      log(`capacity: ${opts.capacitySteps.join(", ")} silent streams held by the baseline`);
      if (opts.waitQuietSeconds > 0) await waitQuiet();
      report.capacityBaseline = await runHoldPhase(ctx, {
        id: "capacity-baseline",
        server: "baseline",
        env: { BASELINE_HOLD: "1" },
        steps: opts.capacitySteps,
        clients: Math.max(2, opts.clients),
        settleMs: 1000,
        windowMs: 0,
        backgroundMs: 0,
        timeoutMs: cap(120_000),
        route: "chat-stream",
        projectsPerClient: () => 1,
        followers: false,
      });
      log(`  ${summarizeSteps(report.capacityBaseline)}`);
    }
    if (opts.only.has("profile") && !abortedBy && remaining() > 30_000) {
      const dir = `${opts.outDir}/profile`;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.mkdir(dir, { recursive: true });
      log(`profile: ${subject} under --cpu-prof, N=100`);
      if (opts.waitQuietSeconds > 0) await waitQuiet();
      const result = await runLoadPhase(ctx, {
        id: `profile-${subject}-100`,
        server: subject,
        env: { ...common },
        n: 100,
        clients: 1,
        waves: opts.quick ? 3 : 10,
        minSeconds: 0,
        maxWaves: opts.quick ? 3 : 10,
        warmupRuns: 100,
        timeoutMs: cap(90_000),
        route: "chat-stream",
        denoFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
      });
      const files = [];
      for await (const entry of Deno.readDir(dir)) {
        if (entry.name.endsWith(".cpuprofile")) files.push(`${dir}/${entry.name}`);
      }
      if (files.length === 0) {
        notes.push(
          `profile: no .cpuprofile was written (${result.error ?? "server did not exit through Deno.exit?"})`,
        );
      } else {
        const summary = await summarizeProfileFile(files.sort().at(-1)!, 15);
        report.profile = {
          file: files.sort().at(-1)!.replace(`${ROOT}/`, ""),
          n: 100,
          runs: result.runs,
          eventsPerSec: result.eventsPerSec,
          summary,
          markdown: renderProfile(
            summary,
            `CPU profile of ${subject} at N=100 (${result.runs} runs, ${
              Math.round(result.eventsPerSec)
            } events/s under the profiler)`,
          ),
        };
      }
    }
  } catch (err) {
    abortedBy ??= `harness error: ${(err as Error).stack ?? err}`;
    killAll();
  } finally {
    clearTimeout(watchdog);
  }
  notes.push(
    "Client-bound: events/s is marked when a load client used ≥ 85% of one core; a latency figure (TTFE, delivery, run time) is marked when the client's event-loop lag p99 exceeded 5 ms and is at least a quarter of the figure. Marked figures are shown in parentheses, not quoted; targets that depend on them are judged only where the direction of the error still settles them (e.g. a ratio that fails against an understated baseline still fails).",
    "Each phase starts a fresh server process; the baseline (bench/baseline_server.ts) sends the same number of events per run, JSON padded to a similar size, as fast as a pull() ReadableStream allows. Memory per stream is (RSS with the streams open − RSS before any) / streams, garbage included.",
    "The load client (bench/load_client.ts) is a separate process on raw loopback sockets (Deno.connect) with its own HTTP/1.1 chunked + SSE parser; the server and clients share the machine's 2 cores, so at high load the figures include CPU contention between them.",
  );
  await finish(abortedBy);
  return abortedBy ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
