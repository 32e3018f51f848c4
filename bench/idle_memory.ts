/**
 * The memory one more idle open stream keeps alive, in one process: the
 * V8 heap after full collections, which RSS figures blur (RSS also moves
 * with how much heap V8 had committed before). It creates Lantern with the
 * local engine paused in a step (`LANTERN_LOCAL_PACE_MS=120000`), opens
 * chat streams through its `fetch` handler (each in a project of its own)
 * and reads each one's first event, then compares the heap at a tenth of
 * the streams with the heap at all of them.
 *
 * Run: `deno run --allow-all --v8-flags=--expose-gc bench/idle_memory.ts [--streams=2000]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getHeapSpaceStatistics } from "node:v8";
import { startInProcess } from "./in_process.ts";

const { values } = parseArgs({ args: Deno.args, options: { streams: { type: "string" } } });
const streams = Number(values.streams ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc: the heap is measured after full collections.");

const { post, close } = await startInProcess({ LANTERN_LOCAL_PACE_MS: "120000" });

const open: ReadableStreamDefaultReader<Uint8Array>[] = [];
async function openStreams(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { id } = await (await post("/api/projects", { name: `idle ${open.length}` })).json();
    const res = await post(`/api/projects/${id}/chat-stream`, {
      message: "Remember that the launch is on May 3",
    });
    const reader = res.body!.getReader();
    await reader.read();
    open.push(reader);
  }
}

interface Settled {
  memory: Deno.MemoryUsage;
  /** Bytes V8 has committed to its young generation, and to its old one. */
  young: number;
  old: number;
}

async function settledMemory(): Promise<Settled> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc!();
  gc!();
  const spaces = getHeapSpaceStatistics();
  const committed = (name: string) => spaces.find((s) => s.space_name === name)?.space_size ?? 0;
  return { memory: Deno.memoryUsage(), young: committed("new_space"), old: committed("old_space") };
}

const first = Math.max(100, Math.round(streams / 10));
await openStreams(first);
const before = await settledMemory();
await openStreams(streams - first);
const after = await settledMemory();
const per = (bytes: number) => `${(bytes / (streams - first) / 1024).toFixed(1)} KiB`;
const heapKept = per(after.memory.heapUsed - before.memory.heapUsed);
console.log(
  `${streams} idle chat streams: heap kept per stream ${heapKept}, ` +
    `RSS per stream ${per(after.memory.rss - before.memory.rss)} (from ${first} streams to ${streams})`,
);
// What V8 holds beyond the live heap: the generations' committed space grows ahead of what they hold.
console.log(
  `V8's committed heap per stream ${per(after.memory.heapTotal - before.memory.heapTotal)}: ` +
    `young generation ${per(after.young - before.young)}, old generation ${per(after.old - before.old)}`,
);
for (const reader of open) reader.cancel().catch(() => {});
await close();
