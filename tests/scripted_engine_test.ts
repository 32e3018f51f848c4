/**
 * The scripted benchmark engine (`LANTERN_ENGINE=scripted`): what the bench
 * relies on is that a run through the real server carries exactly the eight
 * steps' start and end, 75 tokens and one result, gap-free, and that the
 * answer lands in the conversation like any other.
 */

import assert from "node:assert/strict";
import { createEngine } from "../lib/agent/engines.ts";
import { SCRIPTED_ANSWER, SCRIPTED_TOKENS } from "../lib/agent/scripted_engine.ts";
import { loadConfig } from "../lib/config.ts";
import { STEPS } from "../lib/protocol.ts";
import { call, chatStream, collectRunEvents, createProject, startServer } from "./helpers.ts";

Deno.test("LANTERN_ENGINE=scripted selects the scripted engine; an unknown engine is refused", async () => {
  assert.equal((await createEngine(loadConfig({ LANTERN_ENGINE: "scripted" }))).name, "scripted");
  assert.throws(() => loadConfig({ LANTERN_ENGINE: "scripty" }), /LANTERN_ENGINE .*"scripty"/);
});

Deno.test("a scripted run streams 16 progress events, 75 tokens and a result, and records the answer", async () => {
  await using server = await startServer({ LANTERN_ENGINE: "scripted" });
  const project = await createProject(server.url);
  for (const message of ["Remember that tea is at 4", "List memories"]) {
    const events = await collectRunEvents(await chatStream(server.url, project.id, message));
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    const progress = events.flatMap((e) => e.type === "progress" ? [e.progress] : []);
    assert.deepEqual(
      progress.map((p) => `${p.step}:${p.phase}`),
      STEPS.flatMap((s) => [`${s}:start`, `${s}:end`]),
    );
    const tokens = events.flatMap((e) => e.type === "token" ? [e.delta] : []);
    assert.equal(tokens.length, SCRIPTED_TOKENS);
    assert.equal(events.length, 16 + SCRIPTED_TOKENS + 1);
    const last = events.at(-1)!;
    assert.equal(last.type, "result");
    if (last.type !== "result") return;
    assert.equal(last.result.engine, "scripted");
    assert.equal(last.result.message, SCRIPTED_ANSWER.join(""));
    // No tool ran: the message asked to remember, but the scripted engine never plans.
    assert.deepEqual(last.result.plan, []);
  }
  const memories = await call<unknown[]>(`${server.url}/api/projects/${project.id}/memories`);
  assert.deepEqual(memories.body, []);
  const messages = await call<{ role: string; content: string }[]>(
    `${server.url}/api/projects/${project.id}/messages`,
  );
  assert.deepEqual(messages.body.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
  assert.equal(messages.body[1]!.content, SCRIPTED_ANSWER.join(""));
});
