import assert from "node:assert/strict";
import { chatStream, collectRunEvents, createProject, startServer } from "./helpers.ts";

Deno.test("a chat-stream run yields the eight steps in order, then a result", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that the launch is on May 3");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const events = await collectRunEvents(res);
  const progress = events.filter((e) => e.type === "progress");
  assert.ok(progress.length >= 16, `only ${progress.length} progress events`);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.at(-1)?.type, "result");
});
