/**
 * Facts that change: a newer fact on the same subject supersedes the older
 * one, which stays as history (`GET …/memories?history=1`); memories saved
 * before subjects existed keep working; forgetting a fact forgets its
 * history; the planning step says why it chose its tools.
 */

import assert from "node:assert/strict";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { ChatResult, Memory, Progress } from "../lib/protocol.ts";
import { createStores } from "../lib/store/mod.ts";
import { agentEvents, call, createProject, startServer } from "./helpers.ts";

async function chat(url: string, projectId: string, message: string): Promise<ChatResult> {
  const { status, body } = await call<ChatResult>(`${url}/api/projects/${projectId}/chat`, {
    body: { message },
  });
  assert.equal(status, 200, `"${message}" answered ${status}`);
  return body;
}

Deno.test("GET memories lists current facts; ?history=1 adds the ones a newer fact replaced", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const base = `${server.url}/api/projects/${project.id}/memories`;
  await chat(server.url, project.id, "Remember that the launch is on May 3");
  await chat(server.url, project.id, "Remember that Ana leads design");
  const moved = await chat(server.url, project.id, "The launch moved to May 10");
  assert.equal(moved.message, "Got it. The launch is now on May 10 (it was May 3).");

  const current = (await call<Memory[]>(base)).body;
  assert.deepEqual(current.map((m) => [m.text, m.subject, m.supersededBy]), [
    ["Ana leads design", "ana", null],
    ["The launch moved to May 10", "launch", null],
  ]);
  const all = (await call<Memory[]>(`${base}?history=1`)).body;
  const newer = current.find((m) => m.subject === "launch")!;
  assert.deepEqual(all.map((m) => [m.text, m.supersededBy]), [
    ["The launch is on May 3", newer.id],
    ["Ana leads design", null],
    ["The launch moved to May 10", null],
  ]);
  assert.deepEqual((await call<Memory[]>(`${base}?history=0`)).body, current);
  const bad = await call<{ error: { code: string; message: string } }>(`${base}?history=maybe`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error, {
    code: "invalid_query",
    message: '"history" must be 1 or 0, got "maybe".',
  });

  const when = await chat(server.url, project.id, "When is the launch?");
  assert.equal(when.message, "From what you told me: **The launch moved to May 10**");
});

Deno.test("a memory stored before subjects existed is read, answered from, and superseded", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = createStores(kv);
    const project = await stores.projects.create("Legacy");
    // Exactly what today's KV holds: no subject, no supersededBy.
    const legacy = {
      id: "0legacy",
      text: "The launch is on May 3",
      source: "user",
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    await kv.set(["memories", project.id, legacy.id], legacy);
    assert.deepEqual(await stores.memories.list(project.id), [legacy]);

    const run = async (message: string, runId: string) => {
      const events = await agentEvents(stores, project, message, new LocalEngine(), runId);
      const result = events.find((e) => e.type === "result");
      assert.ok(result?.type === "result", `"${message}" did not finish`);
      return {
        result: result.result,
        progress: events.flatMap((e) => e.type === "progress" ? [e.progress] : []),
      };
    };
    assert.equal(
      (await run("Is the launch on May 3?", "r1")).result.message,
      "Yes. From what you told me: **The launch is on May 3**",
    );
    const { result, progress } = await run("The launch moved to May 10", "r2");
    assert.equal(result.message, "Got it. The launch is now on May 10 (it was May 3).");
    assert.deepEqual(result.plan, [{
      tool: "save_memory",
      args: { text: "The launch moved to May 10", subject: "launch", replaces: [legacy.id] },
      why: "“moved to” reads as a change of “launch” (a date): it replaces “The launch is on May 3”.",
    }]);
    // The planning step says why: the intent, the words that chose it, the subject and what it replaces.
    const why = progress.find((p: Progress) => p.step === "planning" && p.phase === "update")!;
    assert.equal(why.message, "Why this plan");
    assert.match(
      why.details,
      /^update \(read from: .*\) \[subject "launch", when\] replacing "The launch is on May 3" → save_memory$/,
    );

    const history = await stores.memories.list(project.id, { history: true });
    assert.deepEqual(history.map((m) => [m.text, m.supersededBy ?? null]), [
      ["The launch is on May 3", result.memories.added[0]!.id],
      ["The launch moved to May 10", null],
    ]);

    // Forgetting the fact forgets its history too.
    const forgot = await run("Forget the launch", "r3");
    assert.match(forgot.result.message, /^Done\. I forgot this:\n\n- The launch moved to May 10$/);
    assert.deepEqual(await stores.memories.list(project.id, { history: true }), []);
  } finally {
    kv.close();
  }
});

Deno.test("save_memory ignores a replaced id that is missing or already replaced", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { memories } = createStores(kv);
    const a = await memories.add("p", { text: "The demo is on Friday", source: "user", subject: "demo" });
    const b = await memories.add("p", { text: "The demo is on Monday", source: "user", subject: "demo" }, [
      a.id,
    ]);
    assert.deepEqual(b.replaced?.map((m) => m.id), [a.id]);
    const c = await memories.add("p", { text: "The demo is on Tuesday", source: "user", subject: "demo" }, [
      a.id,
      "0nope",
    ]);
    assert.equal(c.replaced, undefined);
    assert.deepEqual((await memories.list("p")).map((m) => m.text), [
      "The demo is on Monday",
      "The demo is on Tuesday",
    ]);
  } finally {
    kv.close();
  }
});
