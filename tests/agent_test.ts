/**
 * The agent driven directly (lib/agent/run_agent.ts) with the local engine
 * and with test engines, on stores over an in-memory KV: the order and
 * content of every event for each intent, what the tools really did to KV,
 * and how invalid plans and failing engines end a run.
 */

import assert from "node:assert/strict";
import { type Analysis, type Engine, type EngineContext, EngineError } from "../lib/agent/engine.ts";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import { type AgentStores, runAgent } from "../lib/agent/run_agent.ts";
import { ScriptedEngine as BenchEngine } from "../lib/agent/scripted_engine.ts";
import {
  type AgentEvent,
  type ChatResult,
  type Memory,
  type PlanAction,
  type Progress,
  type Project,
  PROTOCOL_VERSION,
  type RunError,
  STEPS,
} from "../lib/protocol.ts";
import { createStores, type MemoryStore, type Stores } from "../lib/store/mod.ts";

/** A fresh in-memory world with one project. */
async function world(): Promise<{ kv: Deno.Kv; stores: Stores; project: Project } & Disposable> {
  const kv = await Deno.openKv(":memory:");
  const stores = createStores(kv);
  const project = await stores.projects.create("Rocket");
  return { kv, stores, project, [Symbol.dispose]: () => kv.close() };
}

let runs = 0;

/** Records the user's message as the run registry does, then drives the agent to its end. */
async function run(
  w: { stores: AgentStores; project: Project },
  message: string,
  engine: Engine = new LocalEngine(),
  signal: AbortSignal = new AbortController().signal,
): Promise<AgentEvent[]> {
  const runId = `run-${++runs}`;
  const userMessage = await w.stores.messages.add(w.project.id, { role: "user", content: message, runId });
  const events: AgentEvent[] = [];
  await runAgent({ runId, project: w.project, userMessage, stores: w.stores, engine, signal }, (event) => {
    events.push(event);
  });
  return events;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function progressOf(events: AgentEvent[]): Progress[] {
  return events.flatMap((e) => e.type === "progress" ? [e.progress] : []);
}

/**
 * Checks everything every successful run has in common and returns its
 * result: the eight steps in order, each opened and closed, well-formed
 * progress, one `action` event per tool action inside the execution step,
 * tokens that add up to the answer, and exactly one result, last.
 */
function assertCompleteRun(events: AgentEvent[]): ChatResult {
  const progress = progressOf(events);
  assert.ok(progress.length >= 16, `only ${progress.length} progress events`);
  // Start and end of each step, in order.
  assert.deepEqual(
    progress.filter((p) => p.phase !== "update").map((p) => `${p.step}:${p.phase}`),
    STEPS.flatMap((s) => [`${s}:start`, `${s}:end`]),
  );
  // Updates sit inside their own step.
  let open: string | null = null;
  for (const p of progress) {
    if (p.phase === "start") open = p.step;
    else if (p.phase === "update") assert.equal(p.step, open, `update of ${p.step} outside its step`);
    else open = null;
  }
  let previous = "";
  for (const p of progress) {
    assert.equal(typeof p.message, "string");
    assert.ok(p.message.length > 0, `empty message in ${p.step}:${p.phase}`);
    assert.equal(typeof p.details, "string");
    assert.match(p.timestamp, ISO);
    assert.equal(new Date(p.timestamp).toISOString(), p.timestamp);
    assert.ok(p.timestamp >= previous, "timestamps go back");
    previous = p.timestamp;
    assert.equal(typeof p.metadata, "object");
    assert.ok(p.metadata !== null && !Array.isArray(p.metadata));
    if (p.phase === "end") {
      assert.equal(typeof p.metadata.durationMs, "number", `${p.step} end without durationMs`);
      assert.ok((p.metadata.durationMs as number) >= 0);
    }
  }

  const terminal = events.filter((e) => e.type === "result" || e.type === "error" || e.type === "cancelled");
  assert.equal(terminal.length, 1, "not exactly one terminal event");
  const last = events.at(-1);
  assert.ok(last?.type === "result", `the run ended with ${JSON.stringify(last)}`);
  const result = last.result;
  assert.deepEqual(Object.keys(result).sort(), [
    "actions",
    "engine",
    "memories",
    "message",
    "plan",
    "runId",
    "steps",
  ]);
  assert.match(result.runId, /^run-\d+$/);
  assert.equal(result.engine, "local");
  assert.deepEqual(Object.keys(result.memories).sort(), ["added", "removed"]);
  assert.deepEqual(result.steps.map((s) => s.step), [...STEPS]);
  for (const s of result.steps) assert.ok(typeof s.durationMs === "number" && s.durationMs >= 0);

  // Tokens come inside the completion step and add up to the answer.
  const completionStart = events.findIndex((e) =>
    e.type === "progress" && e.progress.step === "completion" && e.progress.phase === "start"
  );
  const completionEnd = events.findIndex((e) =>
    e.type === "progress" && e.progress.step === "completion" && e.progress.phase === "end"
  );
  const tokens = events.flatMap((e, i) => e.type === "token" ? [{ i, delta: e.delta }] : []);
  assert.ok(tokens.length > 0, "no tokens");
  for (const t of tokens) {
    assert.ok(t.i > completionStart && t.i < completionEnd, "a token outside completion");
  }
  assert.equal(tokens.map((t) => t.delta).join(""), result.message);

  // The plan is announced, validated, and run one action at a time.
  const planningEnd = progress.find((p) => p.step === "planning" && p.phase === "end")!;
  const replanned = progress.some((p) => p.step === "validation" && p.phase === "update");
  if (!replanned) {
    assert.deepEqual(planningEnd.metadata.plan, result.plan);
    assert.equal(planningEnd.metadata.actions, result.plan.length);
  }
  const validationEnd = progress.find((p) => p.step === "validation" && p.phase === "end")!;
  assert.deepEqual(validationEnd.metadata.plan, result.plan);
  const executionOpening = progress.find((p) => p.step === "execution" && p.phase === "start")!;
  assert.deepEqual(executionOpening.metadata.plan, result.plan);
  // The local engine says why it chose each action, and each step shows it.
  const engine = progress.find((p) => p.step === "start" && p.phase === "start")!.metadata.engine;
  if (engine === "local") {
    for (const action of result.plan) {
      assert.ok(typeof action.why === "string" && action.why.length > 10, `${action.tool} has no why`);
      for (const p of [planningEnd, validationEnd, executionOpening]) {
        assert.ok(p.details.includes(`Why: ${action.why}`), `the ${p.step} step's details lack the why`);
      }
    }
  }
  const executionStart = events.findIndex((e) =>
    e.type === "progress" && e.progress.step === "execution" && e.progress.phase === "start"
  );
  const executionEnd = events.findIndex((e) =>
    e.type === "progress" && e.progress.step === "execution" && e.progress.phase === "end"
  );
  const actions = events.flatMap((e, i) => e.type === "action" ? [{ i, action: e.action }] : []);
  assert.equal(actions.length, result.plan.length);
  assert.equal(result.actions.length, result.plan.length);
  actions.forEach(({ i: at, action }, i) => {
    assert.ok(at > executionStart && at < executionEnd, "an action outside the execution step");
    assert.equal(action.tool, result.plan[i]!.tool);
    assert.deepEqual(action.args, result.plan[i]!.args);
    assert.equal(action.why, result.plan[i]!.why);
    assert.equal(action.index, i);
    assert.equal(action.summary, result.actions[i]!.summary);
  });
  for (const a of result.actions) assert.equal(a.ok, true, `${a.tool} failed: ${a.summary}`);
  const memoryEnd = progress.find((p) => p.step === "memory" && p.phase === "end")!;
  assert.equal(memoryEnd.metadata.added, result.memories.added.length);
  assert.equal(memoryEnd.metadata.removed, result.memories.removed.length);
  return result;
}

/** A plan's tools and arguments, without the engine's reasons (tests/local_why_test.ts checks those). */
function toolsOf(plan: PlanAction[]): PlanAction[] {
  return plan.map(({ tool, args }) => ({ tool, args }));
}

function analysisOf(events: AgentEvent[]): Progress {
  return progressOf(events).find((p) => p.step === "analyzing" && p.phase === "end")!;
}

function texts(memories: Memory[]): string[] {
  return memories.map((m) => m.text);
}

// --- the local engine, intent by intent ------------------------------------

Deno.test("'remember that X' saves X to KV and says so, in eight steps", async () => {
  using w = await world();
  const events = await run(w, "Remember that the launch is on May 3");
  const result = assertCompleteRun(events);

  assert.equal(analysisOf(events).metadata.intent, "remember");
  // The fact's subject travels with it, so a later fact on the launch can replace it.
  assert.deepEqual(toolsOf(result.plan), [{
    tool: "save_memory",
    args: { text: "The launch is on May 3", subject: "launch" },
  }]);
  assert.deepEqual(texts(result.memories.added), ["The launch is on May 3"]);
  assert.deepEqual(result.memories.removed, []);
  assert.equal(result.message, "Got it. I'll remember: **The launch is on May 3**");

  const stored = await w.stores.memories.list(w.project.id);
  assert.deepEqual(stored.map((m) => [m.text, m.source, m.runId]), [[
    "The launch is on May 3",
    "agent",
    result.runId,
  ]]);
  assert.deepEqual(stored, result.memories.added);
  const memoryEnd = progressOf(events).find((p) => p.step === "memory" && p.phase === "end")!;
  assert.deepEqual(memoryEnd.metadata, {
    added: 1,
    removed: 0,
    total: 1,
    durationMs: memoryEnd.metadata.durationMs,
  });
  assert.equal(memoryEnd.details, "+ The launch is on May 3");
});

Deno.test("the start and context steps report the message and the counts they loaded", async () => {
  using w = await world();
  await w.stores.memories.add(w.project.id, { text: "Ana leads design", source: "user" });
  await run(w, "hello");
  const events = await run(w, "Who leads design?");
  assertCompleteRun(events);
  const progress = progressOf(events);
  const startEnd = progress.find((p) => p.step === "start" && p.phase === "end")!;
  assert.equal(startEnd.details, "Who leads design?");
  assert.equal(startEnd.metadata.characters, "Who leads design?".length);
  const started = progress.find((p) => p.step === "start" && p.phase === "start")!;
  // The first event announces the engine and the wire protocol's version.
  assert.deepEqual(started.metadata, { engine: "local", model: "local", protocol: PROTOCOL_VERSION });
  const contextEnd = progress.find((p) => p.step === "context" && p.phase === "end")!;
  // The earlier exchange (question and answer), not the message being answered.
  assert.equal(contextEnd.metadata.messages, 2);
  assert.equal(contextEnd.metadata.memories, 1);
  assert.equal(contextEnd.message, "Loaded 2 messages and 1 memory");
});

Deno.test("'note that X' and its variants save the fact, in the user's words", async () => {
  using w = await world();
  const cases: [string, string][] = [
    ["note that Bob is the PM", "Bob is the PM"],
    ["Please remember: tea is at 4.", "Tea is at 4"],
    ["Don't forget that the demo is on Friday", "The demo is on Friday"],
    ["Don\u2019t forget: the \u201cbeta\u201d flag stays on", "The \u201cbeta\u201d flag stays on"],
    ["Hey, can you remember that the iPhone app ships in June?", "The iPhone app ships in June"],
    ["Keep in mind that Alice is on leave", "Alice is on leave"],
    ["Note to self: buy milk", "Buy milk"],
  ];
  for (const [message, fact] of cases) {
    const result = assertCompleteRun(await run(w, message));
    assert.deepEqual(texts(result.memories.added), [fact], message);
  }
  assert.deepEqual(texts(await w.stores.memories.list(w.project.id)), cases.map(([, fact]) => fact));
});

Deno.test("remembering the same fact twice keeps one copy and says it already knew", async () => {
  using w = await world();
  await run(w, "Remember that the launch is on May 3");
  const result = assertCompleteRun(await run(w, "remember the launch is on May 3."));
  assert.deepEqual(result.memories.added, []);
  assert.equal(result.actions[0]?.summary, 'Already remembered "The launch is on May 3".');
  assert.equal(result.message, "I already remember that: **The launch is on May 3**");
  assert.equal((await w.stores.memories.list(w.project.id)).length, 1);
});

Deno.test("'remember' without a fact asks what to remember and saves nothing", async () => {
  using w = await world();
  for (const message of ["remember", "Remember that", "Please note."]) {
    const events = await run(w, message);
    const result = assertCompleteRun(events);
    assert.deepEqual(result.plan, [], message);
    assert.match(result.message, /^What should I remember\?/, message);
    const executionEnd = progressOf(events).find((p) => p.step === "execution" && p.phase === "end")!;
    assert.equal(executionEnd.message, "No action needed");
  }
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("a fact too long to keep is refused in the answer, not by a failed plan", async () => {
  using w = await world();
  const result = assertCompleteRun(await run(w, `Remember that ${"very ".repeat(800)}long`));
  assert.deepEqual(result.plan, []);
  assert.match(result.message, /too long to remember as one fact \(4,004 characters; the limit is 4,000\)/);
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("'what is / when is / who is X' answer from memory by word overlap", async () => {
  using w = await world();
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  await w.stores.memories.add(w.project.id, { text: "Ana leads the design team", source: "user" });
  await w.stores.memories.add(w.project.id, { text: "The standup moved to 9:30", source: "user" });
  const cases: [string, string, string][] = [
    ["What is the launch date?", "the launch date", "The launch is on May 3"],
    ["when is the launch", "the launch", "The launch is on May 3"],
    ["When's the launch?", "the launch", "The launch is on May 3"],
    ["What\u2019s the date of the launch?", "the date of the launch", "The launch is on May 3"],
    ["Who leads design?", "leads design", "Ana leads the design team"],
    ["Who is Ana?", "Ana", "Ana leads the design team"],
    ["What time is the standup?", "the standup time", "The standup moved to 9:30"],
    ["Do you remember when the launch is?", "the launch", "The launch is on May 3"],
    ["Tell me about the launch", "the launch", "The launch is on May 3"],
    ["What did I tell you about the launch?", "the launch", "The launch is on May 3"],
    ["Remind me when the standup is", "the standup", "The standup moved to 9:30"],
  ];
  for (const [message, query, found] of cases) {
    const events = await run(w, message);
    const result = assertCompleteRun(events);
    assert.equal(analysisOf(events).metadata.intent, "recall", message);
    assert.deepEqual(toolsOf(result.plan), [{ tool: "search_memories", args: { query } }], message);
    assert.deepEqual(texts(result.actions[0]!.output as Memory[]), [found], message);
    assert.equal(result.message, `From what you told me: **${found}**`, message);
  }
});

Deno.test("'what do you know about X' lists every match, best first", async () => {
  using w = await world();
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  await w.stores.memories.add(w.project.id, { text: "Bob bakes bread", source: "user" });
  await w.stores.memories.add(w.project.id, { text: "The launch party is at the lab", source: "user" });
  const result = assertCompleteRun(await run(w, "What do you know about the launch party?"));
  const found = result.actions[0]!.output as (Memory & { score: number })[];
  assert.deepEqual(found.map((m) => [m.text, m.score]), [
    ["The launch party is at the lab", 1],
    ["The launch is on May 3", 0.5],
  ]);
  assert.equal(
    result.message,
    'Here is what I know about "the launch party":\n\n- The launch party is at the lab\n- The launch is on May 3',
  );
});

Deno.test("a question memory cannot answer says so honestly", async () => {
  using w = await world();
  let result = assertCompleteRun(await run(w, "What's the budget?"));
  assert.equal(
    result.message,
    'I don\'t know anything about "the budget": nothing has been saved in this project yet. ' +
      'Tell me with "Remember that …" and I\'ll know next time.',
  );
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  result = assertCompleteRun(await run(w, "What's the budget?"));
  assert.match(
    result.message,
    /^I don't know anything about "the budget": my one memory doesn't mention it\./,
  );
});

Deno.test("'forget X' deletes the best match from KV and names it", async () => {
  using w = await world();
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  const keep = await w.stores.memories.add(w.project.id, { text: "Bob bakes bread", source: "user" });
  const events = await run(w, "Please forget about the launch.");
  const result = assertCompleteRun(events);
  assert.equal(analysisOf(events).metadata.intent, "forget");
  assert.deepEqual(toolsOf(result.plan), [{ tool: "delete_memory", args: { query: "the launch" } }]);
  assert.deepEqual(texts(result.memories.removed), ["The launch is on May 3"]);
  assert.equal(result.message, "Done. I forgot this:\n\n- The launch is on May 3");
  assert.deepEqual(await w.stores.memories.list(w.project.id), [keep]);
  const memoryEnd = progressOf(events).find((p) => p.step === "memory" && p.phase === "end")!;
  assert.equal(memoryEnd.message, "0 saved, 1 forgotten; 1 in memory");
  assert.equal(memoryEnd.details, "- The launch is on May 3");

  const again = assertCompleteRun(await run(w, "forget the launch"));
  assert.deepEqual(again.memories.removed, []);
  assert.equal(again.message, 'I don\'t have anything about "launch" to forget, so nothing changed.');
});

Deno.test("'forget everything' deletes nothing and says how to forget", async () => {
  using w = await world();
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  const result = assertCompleteRun(await run(w, "Forget everything"));
  assert.deepEqual(result.plan, []);
  assert.match(result.message, /^I only forget what you name, so nothing was deleted\./);
  assert.equal((await w.stores.memories.list(w.project.id)).length, 1);
});

Deno.test("'list memories' and 'what do you remember' list what KV holds", async () => {
  using w = await world();
  let result = assertCompleteRun(await run(w, "list memories"));
  assert.deepEqual(toolsOf(result.plan), [{ tool: "list_memories", args: {} }]);
  assert.equal(
    result.message,
    'I don\'t remember anything in this project yet. Tell me something with "Remember that …".',
  );
  await w.stores.memories.add(w.project.id, { text: "The launch is on May 3", source: "user" });
  await w.stores.memories.add(w.project.id, { text: "Bob bakes bread", source: "agent" });
  for (const message of ["What do you remember?", "Show me all your memories", "what's in your memory?"]) {
    const events = await run(w, message);
    result = assertCompleteRun(events);
    assert.equal(analysisOf(events).metadata.intent, "list", message);
    assert.equal(
      result.message,
      "Here is what I remember (2 memories):\n\n- The launch is on May 3\n- Bob bakes bread",
      message,
    );
    assert.deepEqual(texts(result.actions[0]!.output as Memory[]), [
      "The launch is on May 3",
      "Bob bakes bread",
    ]);
  }
});

Deno.test("'summarize the project' gathers memories and the conversation", async () => {
  using w = await world();
  await run(w, "Remember that the launch is on May 3");
  await run(w, "When is the launch?");
  const events = await run(w, "Summarize the project");
  const result = assertCompleteRun(events);
  assert.equal(analysisOf(events).metadata.intent, "summarize");
  assert.deepEqual(toolsOf(result.plan), [{ tool: "summarize_project", args: {} }]);
  const output = result.actions[0]!.output as {
    messageCount: number;
    userMessages: number;
    recent: string[];
  };
  // Two exchanges, then this question (its answer is not written yet).
  assert.equal(output.messageCount, 5);
  assert.equal(output.userMessages, 3);
  assert.deepEqual(output.recent, ["Remember that the launch is on May 3", "When is the launch?"]);
  assert.equal(
    result.message,
    "## Rocket\n\n**What I remember** (1 memory):\n\n- The launch is on May 3\n\n" +
      "**Conversation:** 5 messages so far, 3 from you.\n\n" +
      "**Recently you asked:**\n\n- Remember that the launch is on May 3\n- When is the launch?",
  );
});

Deno.test("greetings, thanks and help answer with what the engine can do", async () => {
  using w = await world();
  for (const message of ["hi", "Hello there!", "Good morning", "help", "What can you do?", "Who are you?"]) {
    const events = await run(w, message);
    const result = assertCompleteRun(events);
    assert.ok(["greeting", "help"].includes(analysisOf(events).metadata.intent as string), message);
    assert.deepEqual(result.plan, []);
    assert.match(result.message, /I can:\n\n- \*\*Remember\*\*/, message);
    assert.match(result.message, /Forget/);
  }
  const result = assertCompleteRun(await run(w, "Thanks!"));
  assert.match(result.message, /^You're welcome!/);
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("anything else gets an honest answer that says what it can do", async () => {
  using w = await world();
  let events = await run(w, "Write me a poem about the sea");
  let result = assertCompleteRun(events);
  assert.equal(analysisOf(events).metadata.intent, "other");
  assert.equal(analysisOf(events).message, "This is not something I have a tool for.");
  assert.deepEqual(result.plan, []);
  assert.deepEqual(result.actions, []);
  assert.match(result.message, /^I can't do that: I'm Lantern's local assistant, and I only work with/);
  assert.match(result.message, /I can:\n\n- \*\*Remember\*\*/);
  // A statement gets a hint to save it.
  events = await run(w, "The budget is 5k.");
  result = assertCompleteRun(events);
  assert.match(result.message, /If you want me to keep that, say: "Remember that the budget is 5k"\./);
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("every run records the answer in the conversation after the question", async () => {
  using w = await world();
  const result = assertCompleteRun(await run(w, "Remember that tea is at 4"));
  const messages = await w.stores.messages.list(w.project.id);
  assert.deepEqual(
    messages.map((m) => [m.role, m.content, m.runId]),
    [["user", "Remember that tea is at 4", result.runId], ["assistant", result.message, result.runId]],
  );
});

// --- test engines: invalid plans and failures -------------------------------

/** An engine whose plan and failures a test chooses. */
class ScriptedEngine implements Engine {
  readonly name = "scripted";
  readonly model = "scripted";
  readonly replansInvalid: boolean;
  plans: unknown[];
  fail: { in: "analyze" | "plan" | "answer"; error: Error } | null;
  problemsSeen: unknown[] = [];

  constructor(
    plans: unknown[],
    options: { replansInvalid?: boolean; fail?: { in: "analyze" | "plan" | "answer"; error: Error } } = {},
  ) {
    this.plans = plans;
    this.replansInvalid = options.replansInvalid ?? false;
    this.fail = options.fail ?? null;
  }

  async *analyze(_ctx: EngineContext) {
    if (this.fail?.in === "analyze") throw this.fail.error;
    yield { kind: "note" as const, message: "Thinking it over", metadata: { tries: 1 } };
    return { intent: "test", summary: "A test run." } satisfies Analysis;
  }

  // deno-lint-ignore require-yield
  async *plan(_ctx: EngineContext, _analysis: Analysis, problems?: unknown[]) {
    if (this.fail?.in === "plan") throw this.fail.error;
    if (problems) this.problemsSeen.push(...problems);
    return this.plans.shift() as PlanAction[];
  }

  async *answer() {
    if (this.fail?.in === "answer") throw this.fail.error;
    yield { kind: "token" as const, delta: "Done." };
  }
}

/** Checks a run that failed: the steps up to the failing one, then one error, last. */
function assertFailedRun(events: AgentEvent[], step: string): RunError {
  const last = events.at(-1);
  assert.ok(last?.type === "error", `the run ended with ${JSON.stringify(last)}`);
  assert.equal(events.filter((e) => e.type === "error" || e.type === "result").length, 1);
  assert.equal(events.filter((e) => e.type === "token").length, 0);
  const opened = progressOf(events).filter((p) => p.phase === "start").map((p) => p.step);
  assert.deepEqual(opened, STEPS.slice(0, STEPS.indexOf(step as never) + 1));
  assert.equal(last.error.step, step);
  assert.deepEqual(Object.keys(last.error).sort(), ["code", "message", "step"]);
  return last.error;
}

Deno.test("an unknown tool in the plan ends the run with invalid_plan naming the tool", async () => {
  using w = await world();
  const events = await run(w, "go", new ScriptedEngine([[{ tool: "launch_rocket", args: {} }]]));
  const error = assertFailedRun(events, "validation");
  assert.equal(error.code, "invalid_plan");
  assert.equal(error.message, 'The plan is invalid: Unknown tool "launch_rocket".');
  // Nothing ran and nothing was written but the user's message.
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
  assert.deepEqual((await w.stores.messages.list(w.project.id)).map((m) => m.role), ["user"]);
});

Deno.test("bad arguments in the plan end the run with invalid_plan naming tool and argument", async () => {
  using w = await world();
  const cases: [unknown[], RegExp][] = [
    [[{ tool: "save_memory", args: { text: 42 } }], /Invalid arguments for "save_memory": text: /],
    [[{ tool: "save_memory", args: { text: "   " } }], /Invalid arguments for "save_memory": text: /],
    [[{ tool: "save_memory", args: {} }], /Invalid arguments for "save_memory": text: /],
    [[{ tool: "list_memories", args: { all: true } }], /Invalid arguments for "list_memories": .*"all"/],
    [[{ tool: "search_memories", args: { query: "x".repeat(501) } }], /"search_memories": query: /],
    [[{ tool: "delete_memory", args: {} }], /Invalid arguments for "delete_memory": Give a query or an id\./],
    [[{ tool: "save_memory", args: null }], /Invalid arguments for "save_memory"/],
    [[null], /Action 1 must name a tool, got null\./],
    [["save_memory"], /Action 1 must name a tool, got "save_memory"\./],
    [[{ tool: 7, args: {} }], /Action 1 must name a tool/],
  ];
  for (const [plan, message] of cases) {
    const events = await run(w, "go", new ScriptedEngine([plan]));
    const error = assertFailedRun(events, "validation");
    assert.equal(error.code, "invalid_plan", JSON.stringify(plan));
    assert.match(error.message, message);
  }
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("a plan that is not a list is invalid_plan, and every problem is named", async () => {
  using w = await world();
  let error = assertFailedRun(
    await run(w, "go", new ScriptedEngine([{ tool: "list_memories", args: {} }])),
    "validation",
  );
  assert.equal(error.code, "invalid_plan");
  assert.match(
    error.message,
    /A plan must be a list of actions, got \{"tool":"list_memories","args":\{\}\}\./,
  );

  error = assertFailedRun(
    await run(
      w,
      "go",
      new ScriptedEngine([[{ tool: "list_memories", args: {} }, { tool: "nope", args: {} }, {
        tool: "save_memory",
        args: { text: "" },
      }]]),
    ),
    "validation",
  );
  assert.match(error.message, /Unknown tool "nope"\..*Invalid arguments for "save_memory"/);
});

Deno.test("an engine that replans an invalid plan gets the problems once, then runs the new plan", async () => {
  using w = await world();
  const engine = new ScriptedEngine([
    [{ tool: "save_memory", args: { txt: "oops" } }],
    [{ tool: "save_memory", args: { text: "Fixed on the second try" } }],
  ], { replansInvalid: true });
  const events = await run(w, "go", engine);
  const result = assertCompleteRun(events.map((e) =>
    // The scripted engine is not the local one; the shape is otherwise the same.
    e.type === "result" ? { ...e, result: { ...e.result, engine: "local" } } : e
  ));
  assert.deepEqual(texts(result.memories.added), ["Fixed on the second try"]);
  const retry = progressOf(events).find((p) => p.step === "validation" && p.phase === "update")!;
  assert.match(retry.message, /^The plan has 1 invalid action; asking for a new one$/);
  assert.match(retry.details, /Action 1: Invalid arguments for "save_memory"/);
  assert.equal(engine.problemsSeen.length, 1);
  // The engine's note from analyze is an update inside its step.
  const note = progressOf(events).find((p) => p.step === "analyzing" && p.phase === "update")!;
  assert.equal(note.message, "Thinking it over");
  assert.deepEqual(note.metadata, { tries: 1 });
});

Deno.test("an engine's why is kept when it is a sentence, dropped when it is not, and cut when too long", async () => {
  using w = await world();
  const engine = new ScriptedEngine([[
    { tool: "list_memories", args: {}, why: "  You asked for everything.  " },
    { tool: "list_memories", args: {}, why: 42 },
    { tool: "list_memories", args: {}, why: "   " },
    { tool: "list_memories", args: {}, why: "x".repeat(400) },
  ]]);
  const events = await run(w, "go", engine);
  const result = assertCompleteRun(
    events.map((e) => e.type === "result" ? { ...e, result: { ...e.result, engine: "local" } } : e),
  );
  const whys = result.plan.map((a) => a.why);
  assert.deepEqual(whys.slice(0, 3), ["You asked for everything.", undefined, undefined]);
  assert.equal(whys[3]?.length, 300);
  assert.ok(whys[3]?.endsWith("…"));
  const actions = events.flatMap((e) => e.type === "action" ? [e.action.why] : []);
  assert.deepEqual(actions, whys);
});

Deno.test("a second invalid plan after a replan still ends with invalid_plan", async () => {
  using w = await world();
  const engine = new ScriptedEngine([[{ tool: "nope", args: {} }], [{ tool: "still_nope", args: {} }]], {
    replansInvalid: true,
  });
  const error = assertFailedRun(await run(w, "go", engine), "validation");
  assert.equal(error.code, "invalid_plan");
  assert.match(error.message, /still_nope/);
});

Deno.test("an EngineError in analyze ends the run with its code at the analyzing step", async () => {
  using w = await world();
  const engine = new ScriptedEngine([], {
    fail: { in: "analyze", error: new EngineError("model_timeout", "The model did not answer in time.") },
  });
  const error = assertFailedRun(await run(w, "go", engine), "analyzing");
  assert.deepEqual(error, {
    code: "model_timeout",
    message: "The model did not answer in time.",
    step: "analyzing",
  });
});

Deno.test("an unexpected exception is internal_error without its text, at the step it hit", async () => {
  using w = await world();
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    for (const where of ["analyze", "plan", "answer"] as const) {
      const engine = new ScriptedEngine([[]], {
        fail: { in: where, error: new TypeError("secret: password=hunter2 at /srv/db") },
      });
      const step = { analyze: "analyzing", plan: "planning", answer: "completion" }[where];
      const events = await run(w, "go", engine);
      const last = events.at(-1);
      assert.ok(last?.type === "error");
      assert.equal(last.error.code, "internal_error");
      assert.equal(last.error.step, step);
      assert.equal(last.error.message, `The ${step} step failed unexpectedly. Please try again.`);
      assert.ok(!JSON.stringify(events).includes("hunter2"), "the exception leaked into the events");
      if (where !== "answer") assertFailedRun(events, step);
    }
  } finally {
    console.error = original;
  }
  // The server log keeps the detail for whoever runs it.
  assert.equal(logged.length, 3);
});

Deno.test("a tool that fails is reported as a failed action, and the run still answers", async () => {
  using w = await world();
  const memories = w.stores.memories;
  const failing: AgentStores = {
    messages: w.stores.messages,
    memories: {
      list: (projectId: string) => memories.list(projectId),
      get: (projectId: string, id: string) => memories.get(projectId, id),
      delete: (projectId: string, id: string) => memories.delete(projectId, id),
      add: () => Promise.reject(new Error("disk full")),
    } as unknown as MemoryStore,
  };
  const original = console.error;
  console.error = () => {};
  let events: AgentEvent[];
  try {
    events = await run({ stores: failing, project: w.project }, "Remember that tea is at 4");
  } finally {
    console.error = original;
  }
  const last = events.at(-1);
  assert.ok(last?.type === "result");
  assert.deepEqual(last.result.actions.map((a) => [a.tool, a.ok, a.summary]), [
    ["save_memory", false, 'The tool "save_memory" failed.'],
  ]);
  assert.equal(
    last.result.message,
    "Something went wrong while I worked on that, so nothing changed. Please try again.",
  );
  const executionEnd = progressOf(events).find((p) => p.step === "execution" && p.phase === "end")!;
  assert.equal(executionEnd.message, "1 of 1 action failed");
  assert.deepEqual(await w.stores.memories.list(w.project.id), []);
});

Deno.test("aborting the signal while the answer streams stops it at the next token, even from an engine that never waits", async () => {
  using w = await world();
  const controller = new AbortController();
  const userMessage = await w.stores.messages.add(w.project.id, {
    role: "user",
    content: "hi",
    runId: "run-cut",
  });
  const seen: AgentEvent[] = [];
  await assert.rejects(
    runAgent({
      runId: "run-cut",
      project: w.project,
      userMessage,
      stores: w.stores,
      engine: new BenchEngine(),
      signal: controller.signal,
    }, (event) => {
      seen.push(event);
      if (event.type === "token") controller.abort(new DOMException("Stopped", "AbortError"));
    }),
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
  assert.equal(seen.filter((e) => e.type === "token").length, 1);
  assert.equal(seen.at(-1)?.type, "token");
});

Deno.test("aborting the signal stops the run at once: nothing more is sent, and no answer is kept", async () => {
  using w = await world();
  const controller = new AbortController();
  const runId = "run-aborted";
  const userMessage = await w.stores.messages.add(w.project.id, {
    role: "user",
    content: "list memories",
    runId,
  });
  const seen: AgentEvent[] = [];
  await assert.rejects(
    runAgent({
      runId,
      project: w.project,
      userMessage,
      stores: w.stores,
      engine: new LocalEngine(),
      signal: controller.signal,
    }, (event) => {
      seen.push(event);
      if (seen.length === 3) controller.abort(new DOMException("Stopped", "AbortError"));
    }),
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
  // The abort came from inside the third event: not one more was sent.
  assert.equal(seen.length, 3);
  assert.ok(seen.every((e) => e.type === "progress"));
  assert.deepEqual((await w.stores.messages.list(w.project.id)).map((m) => m.role), ["user"]);
});
