/**
 * The project feed under load (part of `deno task bench`; alone:
 * `deno run -A bench/feed.ts [--viewers=1000] [--runs=200]`).
 *
 * 1. Two tabs: tab A starts runs (`POST …/runs`), tab B follows the project
 *    feed. For each run: how long after A sent it B had the user's message
 *    and the first step, and how long after A's POST answered.
 * 2. Many viewers: N feed viewers on one project while runs go on. Every
 *    viewer must get every event (compared with a reference viewer), none
 *    twice; the instance must hold one watch and one timer for them; and
 *    the process's CPU while they sit idle between keep-alives is measured.
 *
 * The server runs in this process (to read its feed stats); the clients are
 * plain fetch streams with eventsource-parser, like EventSource.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { loadConfig } from "../lib/config.ts";
import { createLantern } from "../lib/server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { viewers: { type: "string" }, runs: { type: "string" }, quick: { type: "boolean" } },
});
const VIEWERS = Number(values.viewers ?? (values.quick ? 200 : 1000));
const RUNS = Number(values.runs ?? (values.quick ? 50 : 200));

const dir = await Deno.makeTempDir({ prefix: "lantern-feed-bench-" });
const lantern = await createLantern(loadConfig({
  LANTERN_KV_PATH: `${dir}/kv.sqlite`,
  LANTERN_LIMITS: "off",
  LANTERN_LOG: "off",
  LANTERN_LOCAL_PACE_MS: "0",
  LANTERN_LOCAL_TOKEN_MS: "0",
  LANTERN_HEARTBEAT_MS: "15000",
}));
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, lantern.fetch);
const url = `http://127.0.0.1:${server.addr.port}`;

interface Seen {
  type: string;
  key: string;
  at: number;
}

/** A feed viewer: every message it got, with when. */
function view(projectId: string, signal: AbortSignal): { seen: Seen[]; ready: Promise<void> } {
  const seen: Seen[] = [];
  const ready = (async () => {
    const res = await fetch(`${url}/api/projects/${projectId}/events`, { signal });
    (async () => {
      try {
        const stream = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
          new EventSourceParserStream(),
        );
        for await (const message of stream) {
          const event = JSON.parse(message.data);
          const key = event.type.includes(".") ? `feed:${event.seq}` : `${event.runId}:${event.seq}`;
          seen.push({ type: event.type, key, at: performance.now() });
        }
      } catch { /* aborted at the end */ }
    })();
  })();
  return { seen, ready };
}

async function createProject(name: string): Promise<string> {
  const res = await fetch(`${url}/api/projects`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  return (await res.json()).id;
}

async function startRun(projectId: string, message: string): Promise<string> {
  const res = await fetch(`${url}/api/projects/${projectId}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  return (await res.json()).runId;
}

async function until(what: string, check: () => boolean, ms = 240_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function cpuMs(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

const abort = new AbortController();
try {
  // 1. Two tabs.
  const twoTabs = await createProject("Two tabs");
  const tabA = view(twoTabs, abort.signal);
  const tabB = view(twoTabs, abort.signal);
  await Promise.all([tabA.ready, tabB.ready]);
  const behindA: number[] = [];
  const fromSend: number[] = [];
  const fromAnswer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sent = performance.now();
    const runId = await startRun(twoTabs, i % 2 ? "When is the launch?" : `Remember that item ${i} is ready`);
    const answered = performance.now();
    const shown = (tab: typeof tabB) => tab.seen.some((s) => s.key === `${runId}:1`);
    await until("both tabs to show the run's first step", () => shown(tabA) && shown(tabB));
    const first = tabB.seen.find((s) => s.key === `${runId}:1`)!.at;
    behindA.push(first - tabA.seen.find((s) => s.key === `${runId}:1`)!.at);
    fromSend.push(first - sent);
    fromAnswer.push(first - answered);
    await until("the run to end", () => tabB.seen.some((s) => s.type === "run.ended" && s.at >= sent));
  }

  // 2. Many viewers.
  const crowd = await createProject("Crowd");
  const reference = view(crowd, abort.signal);
  await reference.ready;
  const viewers = Array.from({ length: VIEWERS }, () => view(crowd, abort.signal));
  await Promise.all(viewers.map((v) => v.ready));
  const stats = lantern.feeds.stats();
  const runs = 20;
  const startedAt = performance.now();
  for (let i = 0; i < runs; i += 4) {
    await Promise.all([0, 1, 2, 3].map((k) => startRun(crowd, `Remember that crowd fact ${i + k} holds`)));
  }
  await until(
    "the reference viewer to see every run end",
    () => reference.seen.filter((s) => s.type === "run.ended").length === runs,
  );
  const expected = reference.seen.map((s) => s.key);
  await until(
    "every viewer to see every event",
    () => viewers.every((v) => v.seen.length >= expected.length),
    120_000,
  );
  const delivered = performance.now() - startedAt;
  let lost = 0;
  let duplicated = 0;
  const want = new Set(expected);
  for (const v of viewers) {
    const keys = v.seen.map((s) => s.key);
    const unique = new Set(keys);
    if (keys.length > unique.size && duplicated === 0 && Deno.env.get("FEED_BENCH_DEBUG")) {
      const counts = new Map<string, number>();
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
      console.error([...counts].filter(([, n]) => n > 1), v.seen.filter((s) => counts.get(s.key)! > 1));
    }
    duplicated += keys.length - unique.size;
    for (const key of want) if (!unique.has(key)) lost++;
  }
  // Idle: nothing happens for 5 s (the heartbeat is 15 s).
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = cpuMs();
  await new Promise((r) => setTimeout(r, 5_000));
  const idleCpu = cpuMs() - cpu0;

  const report = {
    twoTabs: {
      runs: RUNS,
      tabBBehindTabAMs: { p50: pct(behindA, 50), p99: pct(behindA, 99), max: Math.max(...behindA) },
      firstStepAfterSendMs: { p50: pct(fromSend, 50), p99: pct(fromSend, 99) },
      firstStepAfterPostAnsweredMs: { p50: pct(fromAnswer, 50), p99: pct(fromAnswer, 99) },
    },
    viewers: {
      viewers: VIEWERS + 1,
      runs,
      eventsPerViewer: expected.length,
      lost,
      duplicated,
      allDeliveredMs: Math.round(delivered),
      hub: stats,
      idleCpuMsOver5s: idleCpu,
    },
  };
  console.log(JSON.stringify(report, null, 2));
  console.log(
    `feed: tab B shows a run's first step ${
      report.twoTabs.tabBBehindTabAMs.p99.toFixed(1)
    } ms p99 after tab A does, ${
      report.twoTabs.firstStepAfterSendMs.p99.toFixed(1)
    } ms p99 after tab A sends it ` +
      `(${report.twoTabs.firstStepAfterPostAnsweredMs.p99.toFixed(1)} ms p99 after A's POST answered); ` +
      `${VIEWERS + 1} viewers × ${expected.length} events: ${lost} lost, ${duplicated} duplicated, ` +
      `${stats.watches} watch and ${stats.timers} timer; idle CPU ${idleCpu} ms in 5 s.`,
  );
} finally {
  abort.abort();
  await server.shutdown().catch(() => {});
  await lantern.close(0);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
