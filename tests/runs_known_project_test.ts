import assert from "node:assert/strict";
import type { ChatResult, Project } from "../lib/protocol.ts";
import { call } from "./helpers.ts";
import { startCustomServer, tempKvPath } from "./runs_helpers.ts";

Deno.test("a run starts on the project as this instance last read it; renamed or deleted elsewhere, it reads again", async () => {
  await using kv = await tempKvPath();
  const env = { LANTERN_KV_PATH: kv.path };
  await using a = await startCustomServer(env);
  await using b = await startCustomServer(env);
  const project = (await call<Project>(`${a.url}/api/projects`, { body: { name: "Before" } })).body;
  const chat = (server: { url: string }) =>
    call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, { body: { message: "Hello" } });
  assert.equal((await chat(a)).status, 200);
  assert.equal((await a.stores.projects.known(project.id))?.name, "Before", "A remembers the project");

  // B renames it: A's remembered read is out of date, its start commit notices and reads again.
  const renamed = await call(`${b.url}/api/projects/${project.id}`, {
    method: "PATCH",
    body: { name: "After" },
  });
  assert.equal(renamed.status, 200);
  assert.equal((await chat(a)).status, 200);
  assert.equal((await a.stores.projects.known(project.id))?.name, "After");

  // B deletes it: A answers 404, as for any missing project, and starts nothing.
  assert.equal((await call(`${b.url}/api/projects/${project.id}`, { method: "DELETE" })).status, 200);
  const gone = await call<{ error: { code: string; message: string } }>(
    `${a.url}/api/projects/${project.id}/chat-stream`,
    { body: { message: "Anyone there?" } },
  );
  assert.equal(gone.status, 404);
  assert.equal(gone.body.error.code, "project_not_found");
  const running = [];
  for await (const entry of a.stores.kv.list({ prefix: ["running"] })) running.push(entry);
  const left = [];
  for await (const entry of a.stores.kv.list({ prefix: ["messages", project.id] })) left.push(entry);
  assert.deepEqual([running, left], [[], []], "no run, no message");
});
