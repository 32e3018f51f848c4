/**
 * What a scripted run writes to KV: mutations, checks and bytes per run, and
 * the mutations by the key's first part, counted on every atomic commit
 * (Lantern's own, the shared ones and the log writer's) while N runs at a
 * time go through Lantern in this process (bench/in_process.ts). The
 * companion of bench/kv_ops.ts, which counts the calls.
 *
 * Run: `deno run --allow-all bench/kv_mutations.ts [--n=100] [--rounds=10] [--log=on|off]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startInProcess } from "./in_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { n: { type: "string" }, rounds: { type: "string" }, log: { type: "string" } },
});
const n = Number(values.n ?? 100);
const rounds = Number(values.rounds ?? 10);

interface Counted {
  mutations: Deno.KvMutation[];
  checks: number;
}

// Every operation's writes, kept until its commit; counted only while `counting`.
const recorded = new WeakMap<Deno.AtomicOperation, Counted>();
const of = (op: Deno.AtomicOperation) => {
  let counted = recorded.get(op);
  if (!counted) recorded.set(op, counted = { mutations: [], checks: 0 });
  return counted;
};
const proto = Deno.AtomicOperation.prototype;
const { set, delete: del, mutate, check, commit } = proto;
proto.set = function (key, value, options) {
  of(this).mutations.push({ type: "set", key, value, ...options });
  return set.call(this, key, value, options);
};
proto.delete = function (key) {
  of(this).mutations.push({ type: "delete", key });
  return del.call(this, key);
};
proto.mutate = function (...mutations) {
  of(this).mutations.push(...mutations);
  return mutate.apply(this, mutations);
};
proto.check = function (...checks) {
  of(this).checks += checks.length;
  return check.apply(this, checks);
};
let counting = false;
const totals = { commits: 0, mutations: 0, checks: 0, bytes: 0 };
const byKey = new Map<string, number>();
proto.commit = function () {
  if (counting) {
    const { mutations, checks } = of(this);
    totals.commits++;
    totals.mutations += mutations.length;
    totals.checks += checks;
    for (const m of mutations) {
      const name = `${m.type === "delete" ? "delete " : ""}${String(m.key[0])}`;
      byKey.set(name, (byKey.get(name) ?? 0) + 1);
      if (m.type === "set") totals.bytes += JSON.stringify(m.value)?.length ?? 0;
    }
  }
  return commit.call(this);
};

const { createProjects, runEach, close } = await startInProcess({
  LANTERN_ENGINE: "scripted",
  LANTERN_RUN_LOG: values.log ?? "on",
});
const projects = await createProjects(n);
for (let r = 0; r < 2; r++) await runEach(projects);
counting = true;
for (let r = 0; r < rounds; r++) await runEach(projects);
counting = false;
await close();

const runs = n * rounds;
const per = (x: number) => (x / runs).toFixed(2);
console.log(`KV writes per run (${runs} scripted runs, ${n} at a time, log ${values.log ?? "on"}):\n`);
console.log("| What | Per run |\n| --- | --- |");
console.log(`| Commits | ${per(totals.commits)} |`);
console.log(`| Mutations | **${per(totals.mutations)}** |`);
console.log(`| Checks | ${per(totals.checks)} |`);
console.log(`| Bytes set (JSON) | ${Math.round(totals.bytes / runs)} |`);
for (const [name, count] of [...byKey].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${name} | ${per(count)} |`);
}
