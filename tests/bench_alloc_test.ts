/** The allocation summary of bench/inprocess.ts --alloc charges each sample to the nearest repository file. */

import assert from "node:assert/strict";
import { allocationsOf, repositoryFile } from "../bench/alloc_profile.ts";

interface Sample {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: Sample[];
}

const node = (url: string, selfSize: number, children: Sample[] = []): Sample => ({
  callFrame: { functionName: "f", url },
  selfSize,
  children,
});

Deno.test("allocations are charged to the nearest repository file on the stack, the rest to the runtime", () => {
  const head = node("", 0, [
    node("ext:deno_web/06_streams.js", 100),
    node("file:///work/main/lib/runs/live_run.ts", 40, [
      node("ext:core/00_infra.js", 10),
      node("file:///work/main/lib/runs/feed.ts", 5, [node("", 7)]),
    ]),
    node("file:///work/main/main.ts", 3),
  ]);
  const { totalBytes, byFile } = allocationsOf(head);
  assert.equal(totalBytes, 165);
  assert.deepEqual(byFile, [
    { file: "(runtime)", bytes: 100 },
    { file: "lib/runs/live_run.ts", bytes: 50 },
    { file: "lib/runs/feed.ts", bytes: 12 },
    { file: "main.ts", bytes: 3 },
  ]);
});

Deno.test("only the product's own files count as repository files", () => {
  assert.equal(repositoryFile("file:///x/lib/store/kv.ts"), "lib/store/kv.ts");
  assert.equal(repositoryFile("file:///x/routes/api/runs.ts"), "routes/api/runs.ts");
  assert.equal(repositoryFile("file:///x/bench/in_process.ts"), null);
  assert.equal(repositoryFile("ext:deno_web/06_streams.js"), null);
});
