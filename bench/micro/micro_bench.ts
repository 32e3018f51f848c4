/**
 * Micro benchmarks (`deno bench`): the SSE encoder, the local engine's whole
 * run without HTTP, the stores' writes and reads, the run log's append and
 * replay.
 *
 * @module
 */

import { LocalEngine } from "../../lib/agent/local_engine.ts";
import { runAgent } from "../../lib/agent/run_agent.ts";
import type { RunEvent } from "../../lib/protocol.ts";
import { encodeFrame } from "../../lib/runs/feed.ts";
import { RunLog } from "../../lib/runs/run_log.ts";
import { encodeServerSentEvent, ServerSentEventStream } from "../../lib/sse.ts";
import { createStores } from "../../lib/store/mod.ts";

const kv = await Deno.openKv(":memory:");
const stores = createStores(kv);
const project = await stores.projects.create("Bench");
const engine = new LocalEngine();
const log = new RunLog(kv, 60_000);

const progress: RunEvent = {
  type: "progress",
  runId: "0mwv9x9rc000f3vc70qvo097y0bj6krakw37o",
  seq: 7,
  ts: 1795559765318.2808,
  progress: {
    step: "planning",
    phase: "end",
    message: "Planned 1 action",
    details: '1. save_memory({"text":"The launch is on May 3"})',
    timestamp: "2026-11-24T22:36:05.318Z",
    metadata: { plan: [{ tool: "save_memory", args: { text: "The launch is on May 3" } }], durationMs: 0.4 },
  },
};
const json = JSON.stringify(progress);

Deno.bench("sse: encode one progress event (string)", { group: "sse", baseline: true }, () => {
  encodeServerSentEvent({ id: progress.seq, data: json });
});

Deno.bench("sse: encode one progress event to bytes (hot path)", { group: "sse" }, () => {
  encodeFrame(progress, json);
});

Deno.bench("sse: 1,000 events through ServerSentEventStream", { group: "sse-stream" }, async () => {
  const messages = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, data: json }));
  const body = ReadableStream.from(messages).pipeThrough(new ServerSentEventStream());
  for await (const _ of body) { /* drain */ }
});

Deno.bench("agent: local engine, whole run (remember)", { group: "agent" }, async () => {
  const runId = crypto.randomUUID();
  const userMessage = await stores.messages.add(project.id, {
    role: "user",
    content: "Remember that the launch is on May 3",
    runId,
  });
  await runAgent({
    runId,
    project,
    userMessage,
    stores,
    engine,
    signal: new AbortController().signal,
  }, () => {});
});

Deno.bench("store: add a memory", { group: "store" }, async () => {
  await stores.memories.add(project.id, { text: "A fact worth keeping", source: "user" });
});

Deno.bench("store: list 40 messages", { group: "store" }, async () => {
  await stores.messages.list(project.id, 40);
});

let seq = 0;
const runId = "bench-run";
Deno.bench("run log: append 20 events in one atomic commit", { group: "log" }, async () => {
  const op = kv.atomic();
  const entries = Array.from({ length: 20 }, () => ({ seq: ++seq, json }));
  log.append(op, runId, entries, false);
  await op.commit();
});

Deno.bench("run log: replay a 40-event run", { group: "log" }, async (b) => {
  const id = "replay-run";
  const op = kv.atomic();
  log.append(op, id, Array.from({ length: 40 }, (_, i) => ({ seq: i + 1, json })), true);
  await op.commit();
  b.start();
  await log.read(id, 0);
  b.end();
});
