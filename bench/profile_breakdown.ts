/**
 * Splits a V8 `.cpuprofile` (Deno's or Node's `--cpu-prof`) into cost
 * buckets a reader can act on: KV, JSON, byte encoding, the run registry,
 * the agent's steps, the engine, HTTP, streams, GC…
 *
 * Each busy sample goes to one bucket: the first frame, from the leaf up,
 * that a rule claims. So a native `JSON.stringify` called from the run log
 * counts as JSON, and a promise reaction with no script of its own counts
 * where its nearest claimed caller is.
 *
 * Run: `deno run --allow-read bench/profile_breakdown.ts <file.cpuprofile> [main-thread CPU µs per run]`.
 *
 * @module
 */

import { moduleOf } from "./cpu_profile.ts";

interface Frame {
  functionName: string;
  url: string;
}

interface Node {
  id: number;
  callFrame: Frame;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** One bucket's time. */
export interface BucketRow {
  bucket: string;
  ms: number;
  /** Share of busy (non-idle) main-thread time. */
  share: number;
}

/** A profile split into buckets. */
export interface Breakdown {
  busyMs: number;
  /** Busy time before the first HTTP request, left out (module loading, start-up). */
  startupMs: number;
  rows: BucketRow[];
  /**
   * The same time by the nearest file of the repository on the stack (its
   * callees included: KV calls the agent makes count for the agent), so
   * "who asked" beside "what it was"; `(runtime)` when no repository frame is on
   * the synchronous stack (promise jobs, the HTTP server's own work).
   */
  byCaller: BucketRow[];
}

/** Frames that only run once the server handles requests: samples before the first are start-up. */
const SERVING = /^(ext:deno_http|node:_http_server|node:_http_common)/;

/**
 * Rules in order: walking from a sample's leaf up, the first frame a rule
 * claims names the bucket. Frames no rule claims (promise and op plumbing in
 * ext:core, native ops, anonymous callbacks) are passed over, so their time
 * goes to the nearest caller that is claimed.
 */
const RULES: [string, (f: Frame, mod: string) => boolean][] = [
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["V8 (program, compile)", (f) => f.functionName === "(program)"],
  ["JSON (stringify, parse)", (f) => !f.url && /^(stringify|parse)$/.test(f.functionName)],
  [
    "Byte encoding (TextEncoder/Decoder)",
    (f) =>
      /text_encoding|internal\/encoding|webstreams\/encoding/.test(f.url) ||
      /^(op_encode|op_encode_into|op_decode|encode|encodeInto|decode)$/.test(f.functionName) &&
        (!f.url || f.url.startsWith("ext:core")),
  ],
  [
    "KV value serialization (V8 serializer)",
    (f) => /^(serialize|op_serialize|deserialize|op_deserialize)$/.test(f.functionName),
  ],
  ["KV ops (reads, commits, watches)", (f, m) => m === "ext:deno_kv" || f.functionName.startsWith("op_kv_")],
  ["Validation (zod)", (_f, m) => m === "npm:zod"],
  ["AG-UI (@ag-ui/*)", (_f, m) => m.startsWith("npm:@ag-ui/")],
  ["Web streams", (f) => /06_streams|webstreams/.test(f.url)],
  [
    "HTTP server and sockets (runtime)",
    (f, m) =>
      m === "ext:deno_http" || m === "ext:deno_net" || m === "ext:deno_fetch" ||
      /^node:(_http|http|net|internal\/(http|streams|stream_base|net))/.test(f.url),
  ],
  ["Run log (lib/runs/run_log.ts)", (_f, m) => m === "lib/runs/run_log.ts"],
  ["Run registry and feeds (lib/runs/)", (_f, m) => m.startsWith("lib/runs/")],
  ["Stores (lib/store/)", (_f, m) => m.startsWith("lib/store/")],
  // The steps' work moved into lib/agent/steps/, and the engines into folders of their own (issue 14).
  [
    "Agent steps (lib/agent/run_agent.ts)",
    (_f, m) => m === "lib/agent/run_agent.ts" || m.startsWith("lib/agent/steps/"),
  ],
  [
    "Engine (lib/agent/*_engine.ts)",
    (_f, m) => /^lib\/agent\/(?:\w+_engine\.ts$|openai\/|local\/)/.test(m),
  ],
  ["SSE framing (lib/sse.ts)", (_f, m) => m === "lib/sse.ts"],
  ["App and HTTP middleware (lib/, hono)", (_f, m) => m.startsWith("lib/") || m === "npm:hono"],
  ["AI SDK (ai, @ai-sdk/*)", (_f, m) => m === "npm:ai" || m.startsWith("npm:@ai-sdk/")],
  ["Bench peer script", (_f, m) => m.includes("ai_sdk_peer/server")],
  [
    "Runtime JS (timers, events, other ext:/node: code)",
    (f) => /^(ext|node):/.test(f.url) && !f.url.startsWith("ext:core"),
  ],
];

/**
 * Splits a parsed profile into buckets, largest first.
 *
 * @example
 * ```ts
 * import { breakdown } from "./profile_breakdown.ts";
 * const nodes = [
 *   { id: 1, callFrame: { functionName: "(root)", url: "" }, children: [2] },
 *   { id: 2, callFrame: { functionName: "serve", url: "ext:deno_http/00_serve.ts" }, children: [3] },
 *   { id: 3, callFrame: { functionName: "(garbage collector)", url: "" } },
 * ];
 * const b = breakdown({ nodes, samples: [2, 3], timeDeltas: [0, 1000, 3000] });
 * console.log(b.rows.map((r) => `${r.bucket} ${r.ms} ms`)); // [ "GC 3 ms", "HTTP server and sockets (runtime) 1 ms" ]
 * ```
 */
export function breakdown(profile: Profile): Breakdown {
  const byId = new Map<number, Node>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const callerMemo = new Map<number, string>();
  const callerOf = (id: number): string => {
    const known = callerMemo.get(id);
    if (known) return known;
    let file = "(runtime)";
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      const mod = url ? moduleOf(url) : "";
      if (/^(lib|routes|bench)\/|^main\.ts$/.test(mod)) {
        file = mod;
        break;
      }
    }
    callerMemo.set(id, file);
    return file;
  };
  const callers = new Map<string, number>();
  const memo = new Map<number, string>();
  const bucketOf = (id: number): string => {
    const known = memo.get(id);
    if (known) return known;
    let bucket = "Promise and op plumbing (no caller claimed)";
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === "(root)") break;
      const mod = frame.url ? moduleOf(frame.url) : "";
      const rule = RULES.find(([, test]) => test(frame, mod));
      if (rule) {
        bucket = rule[0];
        break;
      }
    }
    memo.set(id, bucket);
    return bucket;
  };
  const serving = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (SERVING.test(byId.get(at)!.callFrame.url)) return true;
    }
    return false;
  };
  const ms = new Map<string, number>();
  let busyUs = 0;
  let startupUs = 0;
  let started = false;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    started ||= serving(node.id);
    if (!started) {
      startupUs += us;
      continue;
    }
    busyUs += us;
    const bucket = bucketOf(node.id);
    ms.set(bucket, (ms.get(bucket) ?? 0) + us / 1000);
    const file = callerOf(node.id);
    callers.set(file, (callers.get(file) ?? 0) + us / 1000);
  }
  const rowsOf = (map: Map<string, number>) =>
    [...map].map(([bucket, v]) => ({ bucket, ms: v, share: busyUs ? (v * 1000) / busyUs : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return { busyMs: busyUs / 1000, startupMs: startupUs / 1000, rows: rowsOf(ms), byCaller: rowsOf(callers) };
}

/**
 * Reads and splits a `.cpuprofile` file.
 *
 * @example
 * ```ts ignore
 * import { breakdownProfileFile } from "./profile_breakdown.ts";
 * console.log((await breakdownProfileFile("bench/results/profile/lantern/CPU.cpuprofile")).rows[0]);
 * ```
 */
export async function breakdownProfileFile(path: string): Promise<Breakdown> {
  return breakdown(JSON.parse(await Deno.readTextFile(path)) as Profile);
}

/**
 * Renders a breakdown as a Markdown table. With `mainCpuPerRunUs` (the main
 * thread's CPU per run, measured from /proc), adds each bucket's share of it:
 * profile time is wall time sampled while the thread was not idle, which on a
 * loaded machine includes waiting for a core, so shares travel better than ms.
 *
 * @example
 * ```ts
 * import { renderBreakdown } from "./profile_breakdown.ts";
 * const b = { busyMs: 4, startupMs: 0, rows: [{ bucket: "GC", ms: 4, share: 1 }], byCaller: [] };
 * console.log(renderBreakdown(b, 500).split("\n")[2]); // | GC | 4 | 100.0% | 500 |
 * ```
 */
export function renderBreakdown(
  b: Breakdown,
  mainCpuPerRunUs?: number,
  by: "bucket" | "caller" = "bucket",
): string {
  const per = mainCpuPerRunUs !== undefined && Number.isFinite(mainCpuPerRunUs);
  const first = by === "bucket" ? "Bucket" : "Nearest repository file on the stack";
  const out = [
    per
      ? `| ${first} | Profile ms | Share of busy | ≈ CPU µs per run |`
      : `| ${first} | Profile ms | Share of busy |`,
    per ? "| --- | --- | --- | --- |" : "| --- | --- | --- |",
  ];
  for (const r of by === "bucket" ? b.rows : b.byCaller) {
    const share = `${(r.share * 100).toFixed(1)}%`;
    out.push(
      per
        ? `| ${r.bucket} | ${r.ms.toFixed(0)} | ${share} | ${(r.share * mainCpuPerRunUs!).toFixed(0)} |`
        : `| ${r.bucket} | ${r.ms.toFixed(0)} | ${share} |`,
    );
  }
  out.push(
    per
      ? `| **Main thread** | ${b.busyMs.toFixed(0)} | 100% | ${mainCpuPerRunUs!.toFixed(0)} |`
      : `| **Main thread** | ${b.busyMs.toFixed(0)} | 100% |`,
  );
  return out.join("\n");
}

if (import.meta.main) {
  const [path, perRun] = Deno.args;
  if (!path) {
    console.error(
      "usage: deno run --allow-read bench/profile_breakdown.ts <file.cpuprofile> [main-thread CPU µs per run]",
    );
    Deno.exit(2);
  }
  const b = await breakdownProfileFile(path);
  console.log(`Start-up left out: ${b.startupMs.toFixed(0)} ms busy before the first request.\n`);
  console.log(renderBreakdown(b, perRun ? Number(perRun) : undefined));
  console.log("");
  console.log(renderBreakdown(b, perRun ? Number(perRun) : undefined, "caller"));
}
