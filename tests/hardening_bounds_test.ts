/**
 * Issue 13, "big values break runs": every stored value fits KV's limits by
 * design, large tool outputs are cut inside their event with a URL to the
 * whole, and each bound (memories, memory length, answer length, tool
 * output, run duration) has its setting and its clear 4xx or `error` event.
 *
 * On the main of before this work, the long answer failed its run at the end
 * (`Value too large`), no event carried `truncated`, and no bound existed.
 */

import assert from "node:assert/strict";
import type { EngineContext, EngineNote, EngineToken } from "../lib/agent/engine.ts";
import { sleep } from "../lib/agent/sleep.ts";
import { loadConfig } from "../lib/config.ts";
import type {
  ActionResult,
  ChatResult,
  Memory,
  Message,
  Project,
  RunEvent,
  RunRecord,
} from "../lib/protocol.ts";
import { deletePrefix } from "../lib/store/mod.ts";
import { parseRunEvent } from "../lib/wire_schema.ts";
import { call, chatStream, collectRunEvents, createProject } from "./helpers.ts";
import { startCustomServer, TestEngine } from "./runs_helpers.ts";

/** A long answer with one- and two-byte characters (V8 stores the latter as UTF-16). */
function longAnswer(chars: number): string {
  const line = "Lantern keeps long answers whole — 長い答えも全部残す. ";
  let text = "";
  for (let i = 0; text.length < chars; i++) text += `${i}: ${line}\n`;
  return `${text.slice(0, chars - 4)}END.`;
}

/** An engine that answers `answer` (in tokens of 1,000 characters) to every message starting with "long". */
function longEngine(answer: string, seen?: (ctx: EngineContext) => void): TestEngine {
  return new TestEngine({
    plan: (ctx) => ctx.message.startsWith("long") ? [] : undefined,
    answer: (ctx) => {
      seen?.(ctx);
      if (!ctx.message.startsWith("long")) return undefined;
      return (async function* (): AsyncGenerator<EngineNote | EngineToken, void, void> {
        for (let i = 0; i < answer.length; i += 1000) {
          yield { kind: "token", delta: answer.slice(i, i + 1000) };
        }
      })();
    },
  });
}

Deno.test("an answer of 200 KB is stored, read back whole everywhere, and survives export and import", async () => {
  const answer = longAnswer(200_000);
  let history: Message[] = [];
  await using server = await startCustomServer({}, {
    engine: longEngine(answer, (ctx) => {
      if (ctx.message === "again") history = [...ctx.history];
    }),
  });
  const project = await createProject(server.url, "Long answers");
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "long please" },
  });
  assert.equal(chat.status, 200, JSON.stringify(chat.body).slice(0, 300));
  assert.equal(chat.body.message, answer);

  const messages = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(messages.body.map((m) => m.role), ["user", "assistant"]);
  assert.equal(messages.body[1]!.content, answer, "the messages API returns the whole answer");
  assert.equal("spilled" in messages.body[1]!, false, "no storage detail leaks into the API");

  const run = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${chat.body.runId}`);
  assert.equal(run.body.status, "succeeded");
  assert.equal(run.body.result?.message, answer, "the run record's result is whole");
  const list = await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.equal(list.body[0]!.result?.message, answer);

  // The engine's context read (the conversation's history) has the whole text.
  const again = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "again" },
  });
  assert.equal(again.status, 200);
  assert.equal(history.find((m) => m.role === "assistant")?.content, answer);

  // The page renders all of it: its last words are there.
  const page = await fetch(`${server.url}/projects/${project.id}`);
  assert.equal(page.status, 200);
  const lastLine = answer.split("\n").at(-1)!;
  assert.ok((await page.text()).includes(lastLine), `the page shows the answer's last line, "${lastLine}"`);

  const exported = await call<{ messages: Message[]; runs: RunRecord[] }>(
    `${server.url}/api/projects/${project.id}/export`,
  );
  assert.equal(exported.body.messages[1]!.content, answer, "the export carries the whole answer");
  assert.equal(exported.body.runs.find((r) => r.id === chat.body.runId)?.result?.message, answer);
  const imported = await call<Project>(`${server.url}/api/projects/import`, { body: exported.body });
  assert.equal(imported.status, 201, JSON.stringify(imported.body));
  const copied = await call<Message[]>(`${server.url}/api/projects/${imported.body.id}/messages`);
  assert.equal(copied.body[1]!.content, answer, "the imported copy has the whole answer");
  const copiedRuns = await call<RunRecord[]>(`${server.url}/api/projects/${imported.body.id}/runs`);
  assert.equal(copiedRuns.body.at(-1)!.result?.message, answer);

  // Deleting the project takes the parts of its long values with it.
  for (const id of [project.id, imported.body.id]) {
    assert.equal((await call(`${server.url}/api/projects/${id}`, { method: "DELETE" })).status, 200);
  }
  const left = await Array.fromAsync(server.stores.kv.list({ prefix: ["parts"] }));
  assert.deepEqual(left.map((e) => e.key), []);
});

Deno.test("summarising many memories cuts the tool output inside its event, with a URL to the whole", async () => {
  await using server = await startCustomServer({ LANTERN_LOCAL_PACE_MS: "0", LANTERN_LOCAL_TOKEN_MS: "0" });
  const project = await createProject(server.url, "Many memories");
  const texts: string[] = [];
  for (let i = 0; i < 30; i++) {
    const text = `Fact ${i}: ${"the garden needs water ".repeat(140)}`.trim();
    texts.push(text);
    const added = await call(`${server.url}/api/projects/${project.id}/memories`, { body: { text } });
    assert.equal(added.status, 201);
  }
  const events = await collectRunEvents(await chatStream(server.url, project.id, "Summarize the project"));
  assert.equal(events.at(-1)?.type, "result", JSON.stringify(events.at(-1)).slice(0, 300));
  const action = events.find((e) => e.type === "action");
  assert(action?.type === "action");
  // Valid on the wire, other fields as the tool gave them.
  const { at: _, ...wire } = action;
  assert.ok(parseRunEvent(JSON.stringify(wire)), "the cut event passes the wire schema");
  const cut = action.action;
  assert.equal(cut.tool, "summarize_project");
  assert.equal(cut.ok, true);
  assert.match(cut.summary, /^30 memories and/);
  assert.equal(cut.truncated, true);
  assert.equal(cut.fullUrl, `/api/projects/${project.id}/runs/${action.runId}/actions/0/output`);
  assert.ok(JSON.stringify(cut.output).length <= 64 * 1024, "the event carries at most 64 KiB of output");
  const shown = cut.output as { memories: Memory[]; messageCount: number };
  assert.ok(shown.memories.length > 0 && shown.memories.length < 30, `kept ${shown.memories.length}`);
  assert.equal(shown.messageCount, 1, "small fields stay whole");

  const whole = await call<{ memories: Memory[] }>(`${server.url}${cut.fullUrl}`);
  assert.equal(whole.status, 200);
  assert.deepEqual(whole.body.memories.map((m) => m.text), texts, "the URL returns every memory, whole");

  // The result and the run's record carry the same cut action.
  const result = events.at(-1) as RunEvent & { type: "result" };
  assert.equal(result.result.actions[0]!.fullUrl, cut.fullUrl);
  const record = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${action.runId}`);
  assert.equal((record.body.result?.actions[0] as ActionResult).truncated, true);

  const base = `${server.url}/api/projects/${project.id}/runs/${action.runId}/actions`;
  const bad = await call<{ error: { code: string } }>(`${base}/one/output`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "invalid_index");
  const missing = await call<{ error: { code: string } }>(`${base}/5/output`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "output_not_found");

  // The whole output lives as long as the run's log; once KV has expired it, the URL says so.
  await deletePrefix(server.stores.kv, ["parts", "outputs", project.id]);
  const expired = await call<{ error: { code: string } }>(`${server.url}${cut.fullUrl}`);
  assert.equal(expired.status, 410);
  assert.equal(expired.body.error.code, "output_expired");
});

Deno.test("summarising 2,000 memories answers with a cut output and the whole at its URL (the repro that gave 500)", async () => {
  await using server = await startCustomServer({ LANTERN_LOCAL_PACE_MS: "0", LANTERN_LOCAL_TOKEN_MS: "0" });
  const project = await createProject(server.url, "Two thousand memories");
  const count = 2_000;
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) =>
      server.stores.memories.add(project.id, {
        text: `Note ${i + j}: the greenhouse shelf ${i + j} holds seedlings to water on Fridays.`,
        source: "user",
      })));
  }
  const events = await collectRunEvents(await chatStream(server.url, project.id, "Summarize the project"));
  const last = events.at(-1);
  assert.equal(last?.type, "result", JSON.stringify(last).slice(0, 300));
  const action = events.find((e) => e.type === "action");
  assert(action?.type === "action");
  assert.equal(action.action.tool, "summarize_project");
  assert.equal(action.action.truncated, true);
  assert.match(action.action.summary, /^2,?000 memories/);
  assert.ok(
    JSON.stringify(action.action.output).length <= 64 * 1024,
    "the event carries at most 64 KiB of output",
  );
  const whole = await call<{ memories: Memory[] }>(`${server.url}${action.action.fullUrl}`);
  assert.equal(whole.status, 200);
  assert.equal(whole.body.memories.length, count, "the URL returns every memory");
});

Deno.test("an output that was not cut is served from the run's result", async () => {
  await using server = await startCustomServer({ LANTERN_LOCAL_PACE_MS: "0", LANTERN_LOCAL_TOKEN_MS: "0" });
  const project = await createProject(server.url);
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "Remember that tea is at 4" },
  });
  assert.equal(chat.body.actions[0]?.truncated, undefined);
  const output = await call<Memory>(
    `${server.url}/api/projects/${project.id}/runs/${chat.body.runId}/actions/0/output`,
  );
  assert.equal(output.status, 200);
  assert.equal(output.body.text, "Tea is at 4");
});

Deno.test("a memory longer than LANTERN_MAX_MEMORY_CHARS is refused with 413 and nothing is saved", async () => {
  await using server = await startCustomServer({ LANTERN_MAX_MEMORY_CHARS: "100" });
  const project = await createProject(server.url);
  const base = `${server.url}/api/projects/${project.id}/memories`;
  const refused = await call<{ error: { code: string; message: string } }>(base, {
    body: { text: "x".repeat(101) },
  });
  assert.equal(refused.status, 413);
  assert.equal(refused.body.error.code, "memory_too_long");
  assert.match(refused.body.error.message, /101 characters.*100 \(LANTERN_MAX_MEMORY_CHARS\)/);
  assert.equal((await call(base, { body: { text: "x".repeat(100) } })).status, 201);
  assert.equal((await call<Memory[]>(base)).body.length, 1);
  // The local engine words the same bound in its answer rather than fail the run.
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: `Remember that the garden plan is ${"long ".repeat(30)}` },
  });
  assert.equal(chat.status, 200);
  assert.match(chat.body.message, /too long to remember as one fact \(\d+ characters; the limit is 100\)/);
  assert.equal((await call<Memory[]>(base)).body.length, 1);
});

Deno.test("past LANTERN_MAX_MEMORIES current memories: 409 from the API, an error event from a run", async () => {
  await using server = await startCustomServer({
    LANTERN_MAX_MEMORIES: "2",
    LANTERN_LOCAL_PACE_MS: "0",
    LANTERN_LOCAL_TOKEN_MS: "0",
  });
  const project = await createProject(server.url);
  const base = `${server.url}/api/projects/${project.id}/memories`;
  const chat = (message: string) =>
    call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, { body: { message } });
  assert.equal((await chat("Remember that the launch is on May 3")).status, 200);
  assert.equal((await call(base, { body: { text: "Tea is at 4" } })).status, 201);

  const refused = await call<{ error: { code: string; message: string } }>(base, {
    body: { text: "One more" },
  });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, "too_many_memories");
  assert.match(refused.body.error.message, /LANTERN_MAX_MEMORIES is 2/);

  const events = await collectRunEvents(
    await chatStream(server.url, project.id, "Remember that the demo is on Friday"),
  );
  const last = events.at(-1);
  assert.equal(last?.type, "error");
  assert.equal(last.type === "error" && last.error.code, "too_many_memories");
  assert.equal(last.type === "error" && last.error.step, "execution");

  // Only current memories count: a fact that replaces one still fits.
  const moved = await chat("Actually the launch moved to May 5");
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const current = (await call<Memory[]>(base)).body.map((m) => m.text);
  assert.equal(current.length, 2);
  assert.ok(current.some((t) => t.includes("May 5")), JSON.stringify(current));
  assert.equal((await call<Memory[]>(`${base}?history=1`)).body.length, 3);
});

Deno.test("an import over the memory bounds is refused and creates nothing", async () => {
  await using server = await startCustomServer({ LANTERN_MAX_MEMORIES: "2", LANTERN_MAX_MEMORY_CHARS: "50" });
  const project = await createProject(server.url, "Source");
  const base = `${server.url}/api/projects/${project.id}/memories`;
  for (const text of ["One", "Two"]) assert.equal((await call(base, { body: { text } })).status, 201);
  const doc = (await call<{ memories: Memory[] }>(`${server.url}/api/projects/${project.id}/export`)).body;
  const extra = { ...doc.memories[0]!, id: "0mx26tfd1001dy2jyevvl477f7p1zrepf7m99", text: "Three" };
  const cases: [unknown, number, string][] = [
    [{ ...doc, memories: [...doc.memories, extra] }, 409, "too_many_memories"],
    [{ ...doc, memories: [{ ...extra, text: "x".repeat(51) }] }, 413, "memory_too_long"],
  ];
  for (const [body, status, code] of cases) {
    const refused = await call<{ error: { code: string } }>(`${server.url}/api/projects/import`, { body });
    assert.equal(refused.status, status, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, code);
  }
  assert.equal((await call<Project[]>(`${server.url}/api/projects`)).body.length, 1, "nothing was imported");
  assert.equal((await call(`${server.url}/api/projects/import`, { body: doc })).status, 201);
});

Deno.test("an answer reaching LANTERN_MAX_ANSWER_CHARS is kept up to it, stored, and ends with a truncated result", async () => {
  const answer = longAnswer(10_000);
  let pulled = 0;
  let closed = false;
  await using server = await startCustomServer({ LANTERN_MAX_ANSWER_CHARS: "3000" }, {
    engine: new TestEngine({
      plan: (ctx) => ctx.message.startsWith("long") ? [] : undefined,
      answer: (ctx) => {
        if (!ctx.message.startsWith("long")) return undefined;
        pulled = 0;
        closed = false;
        return (async function* (): AsyncGenerator<EngineNote | EngineToken, void, void> {
          try {
            // Tokens of 700 characters: the bound falls inside one.
            for (let i = 0; i < answer.length; i += 700) {
              pulled++;
              yield { kind: "token", delta: answer.slice(i, i + 700) };
            }
          } finally {
            closed = true;
          }
        })();
      },
    }),
  });
  const project = await createProject(server.url);
  const events = await collectRunEvents(await chatStream(server.url, project.id, "long please"));
  const last = events.at(-1)!;
  assert.equal(last.type, "result", JSON.stringify(last).slice(0, 300));
  const result = (last as Extract<RunEvent, { type: "result" }>).result;
  // The engine was stopped at the bound: the token that crossed it was the last one asked for.
  assert.equal(pulled, 5, "the engine was asked for no token after the one that reached the bound");
  assert.ok(closed, "the engine's iterator was returned");
  // What streamed is exactly the answer up to the bound.
  const streamed = events.map((e) => e.type === "token" ? e.delta : "").join("");
  assert.equal(streamed, answer.slice(0, 3000));
  // The result keeps it, says it was cut, and is marked.
  assert.equal(result.truncated, true);
  assert.equal(result.message.slice(0, 3000), answer.slice(0, 3000), "the kept part opens the message");
  // Then only the sentence: nothing past the bound is kept.
  assert.match(
    result.message.slice(3000),
    /^\n\n\*The answer was cut at 3,000 characters[^\n]*LANTERN_MAX_ANSWER_CHARS\)\.\*$/,
  );
  const completion = events.find((e) =>
    e.type === "progress" && e.progress.step === "completion" && e.progress.phase === "end"
  );
  assert.equal(completion?.type === "progress" && completion.progress.metadata?.truncated, true);

  // Logged like any terminal event: a replay from the log ends with the same result.
  const replay = await collectRunEvents(
    await fetch(`${server.url}/api/projects/${project.id}/runs/${last.runId}/events`),
  );
  const replayed = replay.at(-1);
  assert.equal(replayed?.type, "result");
  assert.equal(replayed?.type === "result" && replayed.result.message, result.message);
  assert.equal(replayed?.type === "result" && replayed.result.truncated, true);
  const run = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${last.runId}`);
  assert.equal(run.body.status, "succeeded");
  assert.equal(run.body.result?.truncated, true);
  // Stored as the assistant's message, the page's conversation shows it.
  const messages = (await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`)).body;
  assert.deepEqual(messages.map((m) => m.role), ["user", "assistant"]);
  assert.equal(messages[1]!.content, result.message);
  const page = await fetch(`${server.url}/projects/${project.id}`);
  assert.match(await page.text(), /The answer was cut at 3,000 characters/);

  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "long again" },
  });
  assert.equal(chat.status, 200);
  assert.equal(chat.body.truncated, true);
  assert.ok(chat.body.message.startsWith(answer.slice(0, 3000)));
});

Deno.test("an answer exactly at LANTERN_MAX_ANSWER_CHARS is whole and not marked", async () => {
  const answer = longAnswer(3000);
  await using server = await startCustomServer({ LANTERN_MAX_ANSWER_CHARS: "3000" }, {
    engine: longEngine(answer),
  });
  const project = await createProject(server.url);
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "long please" },
  });
  assert.equal(chat.status, 200);
  assert.equal(chat.body.message, answer);
  assert.equal(chat.body.truncated, undefined);
});

Deno.test("a tool output over LANTERN_MAX_TOOL_OUTPUT_CHARS is cut to that size", async () => {
  await using server = await startCustomServer({
    LANTERN_MAX_TOOL_OUTPUT_CHARS: "600",
    LANTERN_LOCAL_PACE_MS: "0",
    LANTERN_LOCAL_TOKEN_MS: "0",
  });
  const project = await createProject(server.url);
  for (const text of ["Tea is at 4", "The launch is on May 3", "Ana leads design", "Bob writes the docs"]) {
    await call(`${server.url}/api/projects/${project.id}/memories`, {
      body: { text: `${text}. ${"More. ".repeat(30)}` },
    });
  }
  const chat = await call<ChatResult>(`${server.url}/api/projects/${project.id}/chat`, {
    body: { message: "List memories" },
  });
  const action = chat.body.actions[0]!;
  assert.equal(action.truncated, true);
  assert.ok(JSON.stringify(action.output).length <= 600);
  const whole = await call<Memory[]>(`${server.url}${action.fullUrl}`);
  assert.equal(whole.body.length, 4);
});

Deno.test("a run past LANTERN_MAX_RUN_MS ends with a logged run_timeout error", async () => {
  await using server = await startCustomServer({ LANTERN_MAX_RUN_MS: "300" }, {
    // An engine stuck in its analysis (it still honours the signal).
    engine: new TestEngine({
      pace: (step, signal) => step === "analyzing" ? sleep(60_000, signal) : Promise.resolve(),
    }),
  });
  const project = await createProject(server.url);
  const events = await collectRunEvents(
    await chatStream(server.url, project.id, "Remember that tea is at 4"),
  );
  const last = events.at(-1)!;
  assert.equal(last.type, "error");
  assert.equal(last.type === "error" && last.error.code, "run_timeout");
  assert.equal(last.type === "error" && last.error.step, "analyzing");
  assert.match(last.type === "error" ? last.error.message : "", /300 ms.*LANTERN_MAX_RUN_MS/);
  const replay = await collectRunEvents(
    await fetch(`${server.url}/api/projects/${project.id}/runs/${last.runId}/events`),
  );
  assert.equal(replay.at(-1)?.type === "error" && replay.at(-1)?.seq, last.seq, "the error is in the log");
  const run = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${last.runId}`);
  assert.equal(run.body.status, "failed");
  assert.equal(run.body.error?.code, "run_timeout");
  const user = (await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`)).body[0]!;
  assert.equal(user.status, "failed");
});

Deno.test("the bounds' settings are read, and wrong values refused at start-up", () => {
  const config = loadConfig({
    LANTERN_MAX_MEMORIES: "5",
    LANTERN_MAX_MEMORY_CHARS: "50",
    LANTERN_MAX_ANSWER_CHARS: "0",
    LANTERN_MAX_TOOL_OUTPUT_CHARS: "1000",
    LANTERN_MAX_RUN_MS: "2000",
  });
  assert.deepEqual(config.bounds, {
    maxMemories: 5,
    maxMemoryChars: 50,
    maxAnswerChars: 0,
    maxToolOutputChars: 1000,
    maxRunMs: 2000,
  });
  assert.deepEqual(loadConfig({}).bounds, {
    maxMemories: 10_000,
    maxMemoryChars: 4_000,
    maxAnswerChars: 262_144,
    maxToolOutputChars: 65_536,
    maxRunMs: 600_000,
  });
  assert.throws(
    () => loadConfig({ LANTERN_MAX_MEMORIES: "-1" }),
    /LANTERN_MAX_MEMORIES must be a whole number/,
  );
  assert.throws(() => loadConfig({ LANTERN_MAX_MEMORY_CHARS: "20000" }), /between 1 and 16000, got "20000"/);
  assert.throws(() => loadConfig({ LANTERN_MAX_RUN_MS: "ten" }), /LANTERN_MAX_RUN_MS must be a whole number/);
});
