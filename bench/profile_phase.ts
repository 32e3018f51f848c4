/**
 * The `profile` phase: a server under `--cpu-prof` (Deno's or Node's, the
 * same flags) at N=100, pinned like the peer phase, then where its main
 * thread's time went: top functions, modules, and the cost buckets of
 * bench/profile_breakdown.ts. Lantern runs with the scripted engine, so the
 * profile shows its machinery, not an engine's parsing.
 *
 * @module
 */

import { renderProfile, summarizeProfileFile } from "./cpu_profile.ts";
import type { ProfileSummary } from "./cpu_profile.ts";
import { type Breakdown, breakdownProfileFile } from "./profile_breakdown.ts";
import { type PhaseContext, runLoadPhase } from "./phases.ts";
import type { ServerKind } from "./servers.ts";

/** One profiled server. */
export interface ProfileResult {
  server: ServerKind;
  file: string;
  n: number;
  runs: number;
  eventsPerSec: number;
  /** Server CPU ms per run under the profiler (all threads, /proc). */
  cpuPerRunMs: number;
  /** CPU share of one core by thread over the measured runs. */
  threadShares: Record<string, number>;
  summary: ProfileSummary;
  breakdown: Breakdown;
  markdown: string;
}

/** Options of {@linkcode runProfilePhase}. */
export interface ProfileOptions {
  server: ServerKind;
  env: Record<string, string>;
  /** Folder for the `.cpuprofile` (emptied first). */
  dir: string;
  runs: number;
  serverCpus?: string;
  clientCpus?: string;
  timeoutMs: number;
}

/**
 * Profiles one server at N=100; returns the reason when no profile was written.
 *
 * @example
 * ```ts ignore
 * import { runProfilePhase } from "./profile_phase.ts";
 * const result = await runProfilePhase(ctx, {
 *   server: "peer", env: {}, dir: "/tmp/profile", runs: 1000, timeoutMs: 120_000,
 * });
 * ```
 */
export async function runProfilePhase(
  ctx: PhaseContext,
  o: ProfileOptions,
): Promise<ProfileResult | { error: string }> {
  await Deno.remove(o.dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(o.dir, { recursive: true });
  const waves = Math.max(1, Math.round(o.runs / 100));
  const result = await runLoadPhase(ctx, {
    id: `profile-${o.server}-100`,
    server: o.server,
    env: o.env,
    n: 100,
    clients: 1,
    waves,
    minSeconds: 0,
    maxWaves: waves,
    warmupRuns: 200,
    timeoutMs: o.timeoutMs,
    route: "chat-stream",
    denoFlags: ["--cpu-prof", `--cpu-prof-dir=${o.dir}`],
    serverCpus: o.serverCpus,
    clientCpus: o.clientCpus,
  });
  const files: string[] = [];
  for await (const entry of Deno.readDir(o.dir)) {
    if (entry.name.endsWith(".cpuprofile")) files.push(`${o.dir}/${entry.name}`);
  }
  const file = files.sort().at(-1);
  if (!file) {
    return { error: `no .cpuprofile was written (${result.error ?? "the server did not exit cleanly"})` };
  }
  const summary = await summarizeProfileFile(file, 15);
  const breakdown = await breakdownProfileFile(file);
  const cpuPerRunMs = result.serverCost && result.runs
    ? (result.serverCost.cpuSeconds * 1000) / result.runs
    : NaN;
  return {
    server: o.server,
    file: file.replace(`${ctx.root}/`, ""),
    n: 100,
    runs: result.runs,
    eventsPerSec: result.eventsPerSec,
    cpuPerRunMs,
    threadShares: result.serverCost?.threadShares ?? {},
    summary,
    breakdown,
    markdown: renderProfile(
      summary,
      `CPU profile of ${o.server} at N=100 (${result.runs} measured runs, ${
        Math.round(result.eventsPerSec)
      } events/s under the profiler)`,
    ),
  };
}
