/**
 * What Deno KV's operations cost on a local file, in CPU: the JS main thread
 * and KV's SQLite threads, per operation, from `/proc/self/task`. These are
 * the prices behind Lantern's KV choices (shared commits, one `getMany` for
 * the context step): a commit has a large fixed cost, a mutation a small
 * one, and a list pays for every value it reads.
 *
 * Run: `deno run --allow-all bench/kv_costs.ts`
 *
 * @module
 */

import { ownThreadCpuMs } from "./proc_stats.ts";

const path = await Deno.makeTempFile({ suffix: ".kv" });
const kv = await Deno.openKv(path);

const rows: string[] = [];

async function measure(name: string, times: number, at: number, op: (i: number) => Promise<unknown>) {
  const before = ownThreadCpuMs();
  for (let i = 0; i < times; i += at) {
    await Promise.all(Array.from({ length: Math.min(at, times - i) }, (_, j) => op(i + j)));
  }
  const after = ownThreadCpuMs();
  const per = (thread: string) => ((after.get(thread) ?? 0) - (before.get(thread) ?? 0)) * 1000 / times;
  let all = 0;
  for (const [thread, ms] of after) all += (ms - (before.get(thread) ?? 0)) * 1000 / times;
  rows.push(`| ${name} | ${per("main").toFixed(0)} | ${per("sw-").toFixed(0)} | ${all.toFixed(0)} |`);
}

const message = {
  id: "m",
  role: "assistant",
  content: "word ".repeat(80),
  createdAt: new Date().toISOString(),
  runId: "r",
};
await kv.set(["project"], { id: "p", name: "Bench" });
for (let i = 0; i < 100; i++) await kv.set(["messages", "p", String(i).padStart(3, "0")], message);

await measure("get one key", 3000, 1, () => kv.get(["project"]));
await measure("getMany of three keys", 3000, 1, () => kv.getMany([["project"], ["a"], ["b"]]));
await measure("list the last 41 messages", 1000, 1, async () => {
  for await (const _ of kv.list({ prefix: ["messages", "p"] }, { limit: 41, reverse: true, batchSize: 41 })) {
    // read them
  }
});
await measure("commit: one small set", 2000, 1, (i) => kv.set(["small", i], 1));
await measure("commit: 13 sets of 150 bytes", 1000, 1, (i) => {
  const op = kv.atomic();
  for (let j = 0; j < 13; j++) op.set(["thirteen", i, j], "x".repeat(150), { expireIn: 86_400_000 });
  return op.commit();
});
await measure(
  "commit: one set of 16 KB",
  1000,
  1,
  (i) => kv.atomic().set(["large", i], "x".repeat(16_000)).commit(),
);
let shared: Deno.AtomicOperation | null = null;
await measure("one commit for 20 runs' 13 sets, per run", 1000, 20, (i) => {
  // Counted per run: each call adds its 13 sets to the shared operation below.
  shared ??= kv.atomic();
  for (let j = 0; j < 13; j++) shared.set(["shared", i, j], "x".repeat(150), { expireIn: 86_400_000 });
  if (i % 20 !== 19) return Promise.resolve();
  const op = shared;
  shared = null;
  return op.commit();
});
// Where the keys of one commit fall decides its cost: SQLite writes every page it touches. Lantern's per-project
// keys (a run's record, its messages, its feed) land at one place per project, like the middle row.
const placed = { s: "v".repeat(300) };
const placements: [string, (n: number) => Deno.KvKey][] = [
  ["in key order (a log, an index by time)", (n) => ["placed", "order", n]],
  ["at 100 places (100 projects' ranges)", (n) => ["placed", "hundred", n % 100, n]],
  ["scattered", (n) => ["placed", "scattered", (n * 7_919) % 1_000, n]],
];
for (const [where, keyOf] of placements) {
  let n = 0;
  const commit = () => {
    const op = kv.atomic();
    for (let j = 0; j < 150; j++) op.set(keyOf(++n), placed);
    return op.commit();
  };
  for (let i = 0; i < 50; i++) await commit(); // the pages exist before the measured commits
  // Counted per set: each call is one of a commit's 150.
  let inCommit = 0;
  await measure(`one set of 300 bytes in a commit of 150, keys ${where}`, 30_000, 1, () => {
    if (++inCommit < 150) return Promise.resolve();
    inCommit = 0;
    return commit();
  });
}
console.log(`KV on a local file (${path}), CPU µs per operation:\n`);
console.log("| Operation | JS main thread | SQLite threads | All threads |");
console.log("| --- | --- | --- | --- |");
console.log(rows.join("\n"));
kv.close();
await Deno.remove(path);
