/**
 * The bench's profile breakdown (bench/profile_breakdown.ts), on a small
 * hand-built V8 profile: what BENCHMARKS.md's "where a run's CPU goes" rests
 * on. Each busy sample lands in the bucket of the first frame a rule claims
 * from the leaf up, start-up before the first request is left out, and the
 * caller view charges callees to the nearest repository file.
 */

import assert from "node:assert/strict";
import { breakdown } from "../bench/profile_breakdown.ts";

const ROOT = new URL("..", import.meta.url).href;

/** A profile from stacks (root first) with one sample of `us` per entry, in order. */
function profileOf(samples: { stack: [string, string][]; us: number }[]) {
  const nodes: { id: number; callFrame: { functionName: string; url: string }; children: number[] }[] = [
    { id: 1, callFrame: { functionName: "(root)", url: "" }, children: [] },
  ];
  const ids: number[] = [];
  for (const { stack } of samples) {
    let parent = nodes[0]!;
    for (const [functionName, url] of stack) {
      let child = parent.children.map((id) => nodes[id - 1]!)
        .find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (!child) {
        child = { id: nodes.length + 1, callFrame: { functionName, url }, children: [] };
        nodes.push(child);
        parent.children.push(child.id);
      }
      parent = child;
    }
    ids.push(parent.id);
  }
  // A sample lasts until the next one: its duration is the next delta.
  return { nodes, samples: ids, timeDeltas: [0, ...samples.map((s) => s.us)] };
}

Deno.test("profile breakdown: builtins and ops go to their bucket, plumbing to its caller, start-up is left out", () => {
  const registry = `${ROOT}lib/runs/registry.ts`;
  const agent = `${ROOT}lib/agent/run_agent.ts`;
  const http: [string, string] = ["serve", "ext:deno_http/00_serve.ts"];
  const b = breakdown(profileOf([
    // Start-up: busy before any HTTP frame; left out.
    { stack: [["(program)", ""]], us: 5000 },
    { stack: [http, ["#emit", registry], ["stringify", ""]], us: 1000 },
    {
      stack: [http, ["#write", registry], ["commit", "ext:deno_kv/01_db.ts"], ["op_kv_atomic_write", ""]],
      us: 3000,
    },
    { stack: [["runAgent", agent], ["async_op_5", "ext:core/00_infra.js"], ["op_now", ""]], us: 2000 },
    { stack: [["(garbage collector)", ""]], us: 4000 },
    { stack: [["(idle)", ""]], us: 9000 },
  ]));
  assert.equal(b.startupMs, 5);
  const ms = Object.fromEntries(b.rows.map((r) => [r.bucket, r.ms]));
  assert.equal(ms["JSON (stringify, parse)"], 1);
  assert.equal(ms["KV ops (reads, commits, watches)"], 3);
  assert.equal(ms["Agent steps (lib/agent/run_agent.ts)"], 2);
  assert.equal(ms["GC"], 4);
  assert.equal(b.busyMs, 10);
  const callers = Object.fromEntries(b.byCaller.map((r) => [r.bucket, r.ms]));
  assert.deepEqual(callers, { "lib/runs/registry.ts": 4, "lib/agent/run_agent.ts": 2, "(runtime)": 4 });
});
