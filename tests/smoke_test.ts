import assert from "node:assert/strict";
import { STEPS } from "../lib/protocol.ts";
import { chatStream, collectRunEvents, createProject, startServer } from "./helpers.ts";

Deno.test("a chat-stream run yields the eight steps in order, then a result", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const res = await chatStream(server.url, project.id, "Remember that the launch is on May 3");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const events = await collectRunEvents(res);
  // Each step starts and ends, in the order of STEPS, one after the other.
  const marks = events.flatMap((e) =>
    e.type === "progress" && e.progress.phase !== "update" ? [`${e.progress.step}:${e.progress.phase}`] : []
  );
  assert.deepEqual(marks, STEPS.flatMap((step) => [`${step}:start`, `${step}:end`]));
  // The protocol's list is the README's: the eight steps, in this order.
  assert.deepEqual(STEPS, [
    "start",
    "context",
    "analyzing",
    "planning",
    "validation",
    "execution",
    "memory",
    "completion",
  ]);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === "result").length, 1);
  assert.equal(events.at(-1)?.type, "result");
});
