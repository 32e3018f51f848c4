/**
 * Data portability: a project's export document imports into a new project
 * whose export is the same apart from ids; bad documents are refused with a
 * clear 4xx and change nothing; `deno task export` / `deno task import` move
 * a whole KV file (the fixture from main at 2dcb3ec) and keep ids.
 */

import assert from "node:assert/strict";
import type { ProjectExport } from "../lib/ops/export_schema.ts";
import type { Message, Project } from "../lib/protocol.ts";
import { call, chatStream, collectRunEvents, createProject, runScript, startServer } from "./helpers.ts";

/** Replaces every id with its order of first appearance, and drops the export time. */
function normalize(doc: unknown): unknown {
  const ids = new Map<string, string>();
  const { exportedAt: _, ...rest } = doc as { exportedAt: string };
  return JSON.parse(JSON.stringify(rest), (_key, value) => {
    if (typeof value !== "string" || !/^[0-9a-z]{37}$/.test(value)) return value;
    if (!ids.has(value)) ids.set(value, `#${ids.size}`);
    return ids.get(value);
  });
}

async function importDoc(url: string, body: unknown) {
  return await call<Project & { error?: { code: string; message: string } }>(`${url}/api/projects/import`, {
    body,
  });
}

Deno.test("export: export → import → export is the same document apart from ids", async () => {
  await using server = await startServer();
  const project = await createProject(server.url, "Portable");
  await call(`${server.url}/api/projects/${project.id}/memories`, { body: { text: "The budget is 12k" } });
  for (
    const message of ["Remember that the launch is on May 3", "When is the launch?", "Forget the budget"]
  ) {
    const events = await collectRunEvents(await chatStream(server.url, project.id, message));
    assert.equal(events.at(-1)?.type, "result");
  }
  const first = await call<ProjectExport>(`${server.url}/api/projects/${project.id}/export`);
  assert.equal(first.status, 200);
  assert.match(first.headers.get("content-disposition") ?? "", /attachment; filename="lantern-project-/);
  assert.equal(first.body.format, "lantern.project");
  assert.equal(first.body.version, 1);
  assert.equal(first.body.messages.length, 6);
  assert.equal(first.body.memories.length, 1);
  assert.equal(first.body.runs.length, 3);

  const imported = await importDoc(server.url, first.body);
  assert.equal(imported.status, 201);
  assert.notEqual(imported.body.id, project.id);
  assert.equal(imported.headers.get("location"), `/api/projects/${imported.body.id}`);

  const second = await call<ProjectExport>(`${server.url}/api/projects/${imported.body.id}/export`);
  assert.deepEqual(normalize(second.body), normalize(first.body));
  const ownIds = [second.body.project.id, ...second.body.messages.map((m) => m.id)];
  assert.ok(!ownIds.some((id) => JSON.stringify(first.body).includes(id)), "every id is new");

  // The imported project works: its conversation lists, and a new run uses its memory.
  const messages = (await call<Message[]>(`${server.url}/api/projects/${imported.body.id}/messages`)).body;
  assert.deepEqual(messages.map((m) => m.content), first.body.messages.map((m) => m.content));
  const events = await collectRunEvents(
    await chatStream(server.url, imported.body.id, "When is the launch?"),
  );
  const result = events.at(-1);
  assert.equal(result?.type, "result");
  assert.match(result.result.message, /May 3/);

  // The same document imports again, as another project.
  const again = await importDoc(server.url, first.body);
  assert.equal(again.status, 201);
  assert.equal((await call<Project[]>(`${server.url}/api/projects`)).body.length, 3);
});

Deno.test("export: bad or too large documents are refused with a clear 4xx and change nothing", async () => {
  await using server = await startServer();
  const project = await createProject(server.url, "Source");
  const doc = (await call<ProjectExport>(`${server.url}/api/projects/${project.id}/export`)).body;
  const cases: [string, unknown, number, string][] = [
    ["not JSON", "{nope", 400, "invalid_json"],
    ["another format", { ...doc, format: "something.else" }, 400, "invalid_body"],
    ["a newer export version", { ...doc, version: 99 }, 400, "unsupported_export_version"],
    ["a newer schema", { ...doc, schema: 99 }, 400, "unsupported_export_version"],
    ["a bad id", { ...doc, project: { ...doc.project, id: "../../x" } }, 400, "invalid_body"],
    ["no messages list", { ...doc, messages: undefined }, 400, "invalid_body"],
    [
      "a duplicated id",
      {
        ...doc,
        memories: [
          { id: doc.project.id, text: "a", source: "user", createdAt: doc.project.createdAt },
        ],
      },
      400,
      "invalid_export",
    ],
  ];
  for (const [what, body, status, code] of cases) {
    const res = await importDoc(server.url, body);
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error?.code, code, what);
    assert.ok((res.body.error?.message.length ?? 0) > 10, `${what} says why`);
  }
  const huge = await fetch(`${server.url}/api/projects/import`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: " ".repeat(33 * 1024 * 1024),
  });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).error.code, "body_too_large");
  const wrongType = await fetch(`${server.url}/api/projects/import`, { method: "POST", body: "{}" });
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();
  assert.equal((await call<Project[]>(`${server.url}/api/projects`)).body.length, 1, "nothing was created");
  const missing = await call(`${server.url}/api/projects/${"0".repeat(37)}/export`);
  assert.equal(missing.status, 404);
});

Deno.test("export: the export and import tasks move a whole KV file (from main at 2dcb3ec), ids kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lantern-export-" });
  try {
    await Deno.copyFile(new URL("./fixtures/kv_v0.kv", import.meta.url), `${dir}/old.kv`);
    const exported = await runScript([
      "scripts/export.ts",
      "--kv",
      `${dir}/old.kv`,
      "--out",
      `${dir}/backup.json`,
    ]);
    assert.equal(exported.code, 0, exported.text);
    assert.match(exported.text, /Exported 2 projects/);
    const imported = await runScript([
      "scripts/import.ts",
      `${dir}/backup.json`,
      "--kv",
      `${dir}/new/lantern.kv`,
    ]);
    assert.equal(imported.code, 0, imported.text);
    assert.match(imported.text, /Imported 2 projects/);
    const again = await runScript([
      "scripts/import.ts",
      `${dir}/backup.json`,
      "--kv",
      `${dir}/new/lantern.kv`,
    ]);
    assert.match(again.text, /Imported 0 projects[\s\S]*Skipped 2 that already exist/);

    const reexported = await runScript([
      "scripts/export.ts",
      "--kv",
      `${dir}/new/lantern.kv`,
      "--out",
      `${dir}/b2.json`,
    ]);
    assert.equal(reexported.code, 0, reexported.text);
    const a = JSON.parse(await Deno.readTextFile(`${dir}/backup.json`));
    const b = JSON.parse(await Deno.readTextFile(`${dir}/b2.json`));
    const strip = (doc: { exportedAt?: string; projects: { exportedAt?: string }[] }) => ({
      ...doc,
      exportedAt: undefined,
      projects: doc.projects.map((p) => ({ ...p, exportedAt: undefined })),
    });
    assert.deepEqual(strip(b), strip(a), "identical, ids included");
    assert.equal(a.projects[0].messages.length + a.projects[1].messages.length, 11);
    assert.ok(
      a.projects.some((p: ProjectExport) => p.runs.some((r) => r.status === "cancelled")),
      "the stopped run travels too",
    );

    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ format: "lantern.kv", version: 1 }));
    const bad = await runScript(["scripts/import.ts", `${dir}/bad.json`, "--kv", `${dir}/other.kv`]);
    assert.equal(bad.code, 1);
    assert.match(bad.text, /Import failed: This is not a Lantern KV export/);
    const none = await runScript(["scripts/export.ts", "--kv", `${dir}/missing.kv`]);
    assert.equal(none.code, 1);
    assert.match(none.text, /There is no KV file at/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
