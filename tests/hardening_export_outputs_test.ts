/**
 * Issue 13: a tool output cut inside its event keeps its whole at a URL
 * (`GET .../actions/:index/output`). A backup must keep that whole too:
 * `deno task export` writes it in the document and `deno task import`
 * restores it, so the URL answers the same on the restored KV.
 *
 * On the main of before this work, the document had no `outputs` and the
 * URL answered 410 `output_expired` after the round trip.
 */

import assert from "node:assert/strict";
import type { ProjectExport } from "../lib/ops/export_schema.ts";
import type { Memory } from "../lib/protocol.ts";
import { call, chatStream, collectRunEvents, createProject, runScript, startServer } from "./helpers.ts";

Deno.test("export and import carry the whole outputs of cut tool actions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lantern-outputs-" });
  try {
    const env = { LANTERN_KV_PATH: `${dir}/old.kv`, LANTERN_MAX_TOOL_OUTPUT_CHARS: "2000" };
    let fullUrl = "";
    let whole: unknown;
    {
      await using server = await startServer(env);
      const project = await createProject(server.url, "Outputs");
      for (let i = 0; i < 12; i++) {
        const text = `Fact ${i}: ${"the garden needs water ".repeat(20)}`.trim();
        assert.equal(
          (await call(`${server.url}/api/projects/${project.id}/memories`, { body: { text } })).status,
          201,
        );
      }
      const events = await collectRunEvents(
        await chatStream(server.url, project.id, "Summarize the project"),
      );
      const action = events.find((e) => e.type === "action");
      assert(action?.type === "action");
      assert.equal(action.action.truncated, true, "the summary was cut inside its event");
      fullUrl = action.action.fullUrl!;
      const read = await call<{ memories: Memory[] }>(`${server.url}${fullUrl}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.memories.length, 12);
      whole = read.body;
    }

    const exported = await runScript([
      "scripts/export.ts",
      "--kv",
      `${dir}/old.kv`,
      "--out",
      `${dir}/backup.json`,
    ]);
    assert.equal(exported.code, 0, exported.text);
    const doc = JSON.parse(await Deno.readTextFile(`${dir}/backup.json`)) as { projects: ProjectExport[] };
    const outputs = doc.projects[0]!.outputs ?? [];
    assert.equal(outputs.length, 1, "the document holds the cut action's whole output");
    assert.deepEqual(JSON.parse(outputs[0]!.json), whole);

    const imported = await runScript(["scripts/import.ts", `${dir}/backup.json`, "--kv", `${dir}/new.kv`]);
    assert.equal(imported.code, 0, imported.text);
    await using restored = await startServer({ ...env, LANTERN_KV_PATH: `${dir}/new.kv` });
    const read = await call(`${restored.url}${fullUrl}`);
    assert.equal(read.status, 200, JSON.stringify(read.body).slice(0, 200));
    assert.deepEqual(read.body, whole, "the URL answers the same whole output after the round trip");

    // An output naming a run the document does not have is refused, and nothing is written.
    const stray = structuredClone(doc) as { projects: ProjectExport[] };
    stray.projects[0]!.outputs![0]!.runId = "0".repeat(37);
    await Deno.writeTextFile(`${dir}/stray.json`, JSON.stringify(stray));
    const refused = await runScript(["scripts/import.ts", `${dir}/stray.json`, "--kv", `${dir}/other.kv`]);
    assert.equal(refused.code, 1);
    assert.match(refused.text, /names the run "0{37}", which the document does not have/);
    const other = await runScript(["scripts/export.ts", "--kv", `${dir}/other.kv`]);
    assert.equal(JSON.parse(other.text).projects.length, 0, "nothing was imported");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
