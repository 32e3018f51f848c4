/**
 * Tests of the OpenAI-compatible engine against the fake server in
 * `fake_openai_server.ts`: planning with tool calls, streamed answers, usage,
 * retries, failures mapped to codes, and cancellation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { type EngineContext, EngineError, type Outcome } from "../lib/agent/engine.ts";
import {
  DEFAULT_BASE_URL,
  OpenAIEngine,
  type OpenAIEngineOptions,
  openAIEngineOptions,
} from "../lib/agent/openai_engine.ts";
import { runAgent } from "../lib/agent/run_agent.ts";
import { validatePlan } from "../lib/agent/tools.ts";
import type { AgentEvent, Memory, Message } from "../lib/protocol.ts";
import { MemoryStore } from "../lib/store/memories.ts";
import { MessageStore } from "../lib/store/messages.ts";
import { ProjectStore } from "../lib/store/projects.ts";
import { type FakeOpenAI, startFakeOpenAI } from "./fake_openai_server.ts";

const NOW = "2025-01-01T00:00:00.000Z";
const ANALYSIS = { intent: "model", summary: "Test." };
const LAUNCH = "The launch is on May 3.";

function engineFor(
  fake: FakeOpenAI,
  options: Partial<OpenAIEngineOptions> = {},
): OpenAIEngine {
  return new OpenAIEngine({
    baseUrl: fake.url,
    apiKey: "test-key",
    model: "test-model",
    timeoutMs: 5_000,
    maxRetries: 2,
    ...options,
  });
}

function context(overrides: Partial<EngineContext> = {}): EngineContext {
  const history: Message[] = [
    {
      id: "m1",
      role: "user",
      content: "Hello there.",
      runId: "r0",
      createdAt: NOW,
    },
    {
      id: "m2",
      role: "assistant",
      content: "Hi! What shall I remember?",
      runId: "r0",
      createdAt: NOW,
    },
  ];
  const memories: Memory[] = [
    {
      id: "mem1",
      text: "The team is called Apollo.",
      source: "user",
      createdAt: NOW,
    },
  ];
  return {
    runId: "r1",
    project: { id: "p1", name: "Rocket", createdAt: NOW },
    message: "Remember that the launch is on May 3.",
    history,
    memories,
    signal: new AbortController().signal,
    usage: { model: "", inputTokens: 0, outputTokens: 0 },
    ...overrides,
  };
}

function savedOutcome(): Outcome {
  const memory: Memory = {
    id: "mem2",
    text: LAUNCH,
    source: "agent",
    createdAt: NOW,
    runId: "r1",
  };
  const action = {
    id: "call_save",
    tool: "save_memory",
    args: { text: LAUNCH },
  };
  return {
    plan: [action],
    actions: [{
      ...action,
      ok: true,
      summary: `Saved "${LAUNCH}".`,
      output: memory,
      durationMs: 1,
    }],
    added: [memory],
    removed: [],
  };
}

/** Runs a generator to its end, collecting what it yields into `into`. */
async function drain<Y, R>(
  generator: AsyncGenerator<Y, R, void>,
  into: Y[] = [],
): Promise<R> {
  while (true) {
    const next = await generator.next();
    if (next.done) return next.value;
    into.push(next.value);
  }
}

function isCode(code: string) {
  return (error: unknown) => {
    assert.ok(
      error instanceof EngineError,
      `Expected an EngineError, got ${error}.`,
    );
    assert.equal(error.code, code, error.message);
    return true;
  };
}

function isAbortError(error: unknown): boolean {
  assert.ok(
    error instanceof DOMException,
    `Expected an AbortError, got ${error}.`,
  );
  assert.equal(error.name, "AbortError");
  return true;
}

/** Resolves with whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("the fake server streams tool-call arguments split across chunks", async () => {
  await using fake = startFakeOpenAI();
  fake.script({
    pieces: 4,
    toolCalls: [{ id: "c1", name: "save_memory", arguments: { text: LAUNCH } }],
  });

  const response = await fetch(`${fake.url}/chat/completions`, {
    method: "POST",
    body: JSON.stringify({
      model: "m",
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  const events = (await response.text()).split("\n\n").filter(Boolean);

  assert.equal(events.at(-1), "data: [DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)));
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.equal(calls.length, 5);
  assert.deepEqual(calls[0], {
    index: 0,
    id: "c1",
    type: "function",
    function: { name: "save_memory", arguments: "" },
  });
  assert.ok(
    calls.slice(1).every((c) => c.id === undefined && c.function.name === undefined),
  );
  assert.equal(
    calls.map((c) => c.function.arguments).join(""),
    JSON.stringify({ text: LAUNCH }),
  );
  assert.deepEqual(chunks.at(-1).usage, {
    prompt_tokens: 12,
    completion_tokens: 7,
    total_tokens: 19,
  });
});

Deno.test("plan() returns a save_memory action assembled from split tool-call deltas", async () => {
  await using fake = startFakeOpenAI();
  fake.script({
    pieces: 5,
    toolCalls: [{
      id: "call_save",
      name: "save_memory",
      arguments: { text: LAUNCH },
    }],
  });
  const ctx = context();

  const plan = await drain(engineFor(fake).plan(ctx, ANALYSIS));

  assert.deepEqual(plan, [{
    id: "call_save",
    tool: "save_memory",
    args: { text: LAUNCH },
  }]);
  assert.ok(validatePlan(plan).ok);
  const body = fake.requests[0]?.body;
  assert.ok(body);
  assert.equal(body.model, "test-model");
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.deepEqual(body.tools?.map((t) => t.function.name), [
    "save_memory",
    "search_memories",
    "delete_memory",
    "list_memories",
    "summarize_project",
  ]);
  assert.deepEqual(body.tools?.[0]?.function.parameters, {
    type: "object",
    properties: {
      text: {
        type: "string",
        minLength: 1,
        maxLength: 16000,
        description: "The fact to remember, as a sentence.",
      },
      // Optional (issue 16): what the fact is about, and the memories it supersedes.
      subject: {
        type: "string",
        minLength: 1,
        maxLength: 200,
        description: 'What the fact is about, as a short key ("launch"), so a newer fact can replace it.',
      },
      replaces: {
        type: "array",
        items: { type: "string", minLength: 1, maxLength: 64 },
        maxItems: 20,
        description: "Ids of current memories this fact replaces; they are kept as history.",
      },
      // Every tool: why the model makes the call, shown with the action (see openai_why_test.ts).
      why: {
        type: "string",
        minLength: 1,
        maxLength: 300,
        description:
          "Why you make this call, in one short sentence for the user: the words of their message that ask for it.",
      },
    },
    required: ["text", "why"],
    additionalProperties: false,
  });
  const [system, ...rest] = body.messages;
  assert.equal(system?.role, "system");
  assert.match(system?.content ?? "", /Lantern's planner/);
  assert.match(system?.content ?? "", /mem1: The team is called Apollo\./);
  assert.deepEqual(rest, [
    { role: "user", content: "Hello there." },
    { role: "assistant", content: "Hi! What shall I remember?" },
    { role: "user", content: "Remember that the launch is on May 3." },
  ]);
  assert.equal(
    fake.requests[0]?.headers.get("authorization"),
    "Bearer test-key",
  );
});

Deno.test("plan() returns several tool calls in order, and none when the model calls none", async () => {
  await using fake = startFakeOpenAI();
  fake.script(
    {
      toolCalls: [
        { name: "search_memories", arguments: { query: "launch" } },
        { name: "list_memories", arguments: "" },
      ],
    },
    { text: "Nothing to do." },
  );
  const engine = engineFor(fake);

  assert.deepEqual(await drain(engine.plan(context(), ANALYSIS)), [
    { id: "call_0", tool: "search_memories", args: { query: "launch" } },
    { id: "call_1", tool: "list_memories", args: {} },
  ]);
  assert.deepEqual(await drain(engine.plan(context(), ANALYSIS)), []);
});

Deno.test("answer() streams several token deltas in order and sends the tool results", async () => {
  await using fake = startFakeOpenAI();
  const text = "Saved: the launch is on **May 3**. Anything else?";
  fake.script({ text, pieces: 4 });
  const yielded: unknown[] = [];

  await drain(
    engineFor(fake).answer(context(), ANALYSIS, savedOutcome()),
    yielded,
  );

  const tokens = yielded.map((y) => (y as { kind: string; delta: string }));
  assert.equal(tokens.length, 4);
  assert.ok(tokens.every((t) => t.kind === "token"));
  assert.equal(tokens.map((t) => t.delta).join(""), text);
  const body = fake.requests[0]?.body;
  assert.ok(body);
  assert.equal(body.tools, undefined);
  assert.match(
    body.messages[0]?.content ?? "",
    /mem2: The launch is on May 3\./,
  );
  assert.deepEqual(body.messages.slice(1, 4).map((m) => m.role), [
    "user",
    "assistant",
    "user",
  ]);
  const [call, result] = body.messages.slice(4);
  assert.deepEqual(call?.tool_calls, [{
    id: "call_save",
    type: "function",
    function: {
      name: "save_memory",
      arguments: JSON.stringify({ text: LAUNCH }),
    },
  }]);
  assert.equal(result?.role, "tool");
  assert.equal(result?.tool_call_id, "call_save");
  assert.match(result?.content ?? "", /Saved \\"The launch is on May 3\.\\"/);
});

Deno.test("usage accumulates across the planning and answer calls", async () => {
  await using fake = startFakeOpenAI();
  fake.script(
    {
      toolCalls: [{ name: "save_memory", arguments: { text: LAUNCH } }],
      usage: { prompt_tokens: 20, completion_tokens: 5 },
    },
    { text: "Saved.", usage: { prompt_tokens: 30, completion_tokens: 8 } },
  );
  const engine = engineFor(fake);
  const ctx = context();

  await drain(engine.plan(ctx, ANALYSIS));
  await drain(engine.answer(ctx, ANALYSIS, savedOutcome()));

  assert.deepEqual(ctx.usage, {
    model: "test-model",
    inputTokens: 50,
    outputTokens: 13,
  });
});

Deno.test("malformed tool arguments become an invalid action, and the replan shows the problems", async () => {
  await using fake = startFakeOpenAI();
  const broken = '{"text": "The launch is on May 3.';
  fake.script(
    { toolCalls: [{ id: "call_bad", name: "save_memory", arguments: broken }] },
    {
      toolCalls: [{
        id: "call_good",
        name: "save_memory",
        arguments: { text: LAUNCH },
      }],
    },
  );
  const engine = engineFor(fake);
  const ctx = context();

  const first = await drain(engine.plan(ctx, ANALYSIS));
  assert.deepEqual(first, [{
    id: "call_bad",
    tool: "save_memory",
    args: { __raw: broken },
  }]);
  const checked = validatePlan(first);
  assert.equal(checked.ok, false);
  assert.ok(!checked.ok);
  assert.equal(checked.problems.length, 1);
  assert.equal(checked.problems[0]?.index, 0);
  assert.match(
    checked.problems[0]?.message ?? "",
    /Invalid arguments for "save_memory"/,
  );

  const second = await drain(engine.plan(ctx, ANALYSIS, checked.problems));

  assert.ok(validatePlan(second).ok);
  const messages = fake.requests[1]?.body.messages ?? [];
  const tail = messages.slice(-3);
  assert.equal(tail[0]?.role, "assistant");
  assert.equal(tail[0]?.tool_calls?.[0]?.function.arguments, broken);
  assert.equal(tail[1]?.role, "tool");
  assert.equal(tail[1]?.tool_call_id, "call_bad");
  assert.match(tail[1]?.content ?? "", /Invalid arguments/);
  assert.equal(tail[2]?.role, "user");
  assert.match(
    tail[2]?.content ?? "",
    /Action 1 \("save_memory"\): Invalid arguments/,
  );
});

Deno.test("a 429 twice then success yields retry notes, honouring Retry-After", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(429, 1, { "retry-after-ms": "5" });
  fake.fail(429, 1);
  fake.script({ text: "Done at last." });
  const yielded: unknown[] = [];

  await drain(
    engineFor(fake).answer(context(), ANALYSIS, savedOutcome()),
    yielded,
  );

  assert.equal(fake.requests.length, 3);
  const notes = yielded.filter((y) => (y as { kind: string }).kind === "note");
  assert.deepEqual(notes.map((n) => (n as { message: string }).message), [
    "The model answered 429; retrying in 5 ms (attempt 2 of 3).",
    "The model answered 429; retrying in 500 ms (attempt 3 of 3).",
  ]);
  assert.deepEqual((notes[1] as { metadata: unknown }).metadata, {
    attempt: 3,
    attempts: 3,
    status: 429,
    delayMs: 500,
  });
  const tokens = yielded.filter((y) => (y as { kind: string }).kind === "token");
  assert.equal(
    tokens.map((t) => (t as { delta: string }).delta).join(""),
    "Done at last.",
  );
});

Deno.test("a 500 on every attempt throws model_unavailable after the retries", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(500, 3, { "retry-after-ms": "1" });
  const yielded: unknown[] = [];

  await assert.rejects(
    drain(engineFor(fake).plan(context(), ANALYSIS), yielded),
    isCode("model_unavailable"),
  );

  assert.equal(fake.requests.length, 3);
  assert.equal(yielded.length, 2);
});

Deno.test("a 429 on every attempt throws model_rate_limited", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(429, 2, { "retry-after-ms": "1" });

  await assert.rejects(
    drain(engineFor(fake, { maxRetries: 1 }).plan(context(), ANALYSIS)),
    isCode("model_rate_limited"),
  );
  assert.equal(fake.requests.length, 2);
});

Deno.test("a 401 throws model_auth without retrying", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(401);
  const yielded: unknown[] = [];

  await assert.rejects(
    drain(engineFor(fake).plan(context(), ANALYSIS), yielded),
    (error) => {
      isCode("model_auth")(error);
      assert.match(
        (error as Error).message,
        /refused the API key.*OPENAI_API_KEY/,
      );
      return true;
    },
  );
  assert.equal(fake.requests.length, 1);
  assert.equal(yielded.length, 0);
});

Deno.test("other 4xx are not retried: 404 is model_not_found, 400 is model_bad_request", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(404);
  fake.script({ status: 400, errorMessage: "tools are not supported" });
  const engine = engineFor(fake);

  await assert.rejects(
    drain(engine.plan(context(), ANALYSIS)),
    isCode("model_not_found"),
  );
  await assert.rejects(drain(engine.plan(context(), ANALYSIS)), (error) => {
    isCode("model_bad_request")(error);
    assert.match((error as Error).message, /"tools are not supported"/);
    return true;
  });
  assert.equal(fake.requests.length, 2);
});

Deno.test("a server slow to answer throws model_timeout without retrying", async () => {
  await using fake = startFakeOpenAI();
  fake.script({ headersDelayMs: 5_000, text: "Too late." });

  await assert.rejects(
    drain(engineFor(fake, { timeoutMs: 100 }).plan(context(), ANALYSIS)),
    isCode("model_timeout"),
  );
  assert.equal(fake.requests.length, 1);
});

Deno.test("a stream that stalls between chunks throws model_timeout", async () => {
  await using fake = startFakeOpenAI();
  fake.script({ chunkDelayMs: 5_000, text: "Too late." });

  await assert.rejects(
    drain(
      engineFor(fake, { timeoutMs: 100 }).answer(
        context(),
        ANALYSIS,
        savedOutcome(),
      ),
    ),
    isCode("model_timeout"),
  );
  assert.ok(await within(fake.requests[0]!.whenCancelled, 1_000));
});

Deno.test("a connection dropped mid-stream throws model_network after the first tokens", async () => {
  await using fake = startFakeOpenAI();
  fake.script({
    text: "This answer will not finish.",
    pieces: 5,
    dropAfter: 3,
  });
  const yielded: unknown[] = [];

  await assert.rejects(
    drain(engineFor(fake).answer(context(), ANALYSIS, savedOutcome()), yielded),
    isCode("model_network"),
  );
  assert.equal(yielded.length, 2);
  assert.equal(fake.requests.length, 1);
});

Deno.test("a malformed chunk throws model_bad_response", async () => {
  await using fake = startFakeOpenAI();
  fake.script({ text: "Never read.", malformed: true });

  await assert.rejects(
    drain(engineFor(fake).answer(context(), ANALYSIS, savedOutcome())),
    isCode("model_bad_response"),
  );
});

Deno.test("an unreachable server throws model_network after retrying", async () => {
  const closed = startFakeOpenAI();
  const url = closed.url;
  await closed.close();
  const yielded: unknown[] = [];
  const engine = new OpenAIEngine({
    baseUrl: url,
    apiKey: "k",
    model: "m",
    timeoutMs: 2_000,
    maxRetries: 1,
  });

  await assert.rejects(
    drain(engine.plan(context(), ANALYSIS), yielded),
    isCode("model_network"),
  );
  assert.deepEqual(yielded.map((y) => (y as { message: string }).message), [
    "The model provider could not be reached; retrying in 250 ms (attempt 2 of 2).",
  ]);
});

Deno.test("aborting mid-stream rejects at once with an abort error and the server sees it", async () => {
  await using fake = startFakeOpenAI();
  fake.script({
    text: "A long answer that streams slowly, piece by piece.",
    pieces: 10,
    chunkDelayMs: 50,
  });
  const controller = new AbortController();
  const answer = engineFor(fake).answer(
    context({ signal: controller.signal }),
    ANALYSIS,
    savedOutcome(),
  );

  const first = await answer.next();
  assert.equal((first.value as { kind: string }).kind, "token");
  const started = performance.now();
  controller.abort();

  await assert.rejects(drain(answer), isAbortError);
  assert.ok(
    performance.now() - started < 1_000,
    "The abort took a second or more.",
  );
  assert.ok(
    await within(fake.requests[0]!.whenCancelled, 1_000),
    "The server never saw the abort.",
  );
  assert.equal(fake.requests[0]?.cancelled, true);
});

Deno.test("closing the answer early ends the model request", async () => {
  await using fake = startFakeOpenAI();
  fake.script({
    text: "An answer nobody reads to the end.",
    pieces: 10,
    chunkDelayMs: 50,
  });
  const answer = engineFor(fake).answer(context(), ANALYSIS, savedOutcome());

  await answer.next();
  await answer.return();

  assert.ok(
    await within(fake.requests[0]!.whenCancelled, 1_000),
    "The server never saw the request end.",
  );
});

Deno.test("aborting during a retry's backoff rejects at once", async () => {
  await using fake = startFakeOpenAI();
  fake.fail(503, 1, { "retry-after": "10" });
  const controller = new AbortController();
  const plan = engineFor(fake).plan(
    context({ signal: controller.signal }),
    ANALYSIS,
  );

  const note = await plan.next();
  assert.match(
    (note.value as { message: string }).message,
    /503; retrying in 10000 ms/,
  );
  const started = performance.now();
  const rest = drain(plan);
  controller.abort();

  await assert.rejects(rest, isAbortError);
  assert.ok(
    performance.now() - started < 1_000,
    "The abort took a second or more.",
  );
});

Deno.test("openAIEngineOptions() names the missing variable", () => {
  const base = { LANTERN_ENGINE: "openai" };
  assert.throws(
    () => openAIEngineOptions(loadConfig({ ...base, LANTERN_MODEL: "llama3.1" })),
    /OPENAI_API_KEY must be set.*any non-empty value works/,
  );
  assert.throws(
    () => openAIEngineOptions(loadConfig({ ...base, OPENAI_API_KEY: "ollama" })),
    /LANTERN_MODEL must name the model/,
  );
  assert.throws(
    () =>
      openAIEngineOptions(
        loadConfig({
          ...base,
          OPENAI_API_KEY: "k",
          LANTERN_MODEL: "m",
          OPENAI_BASE_URL: "nope",
        }),
      ),
    /OPENAI_BASE_URL must be a URL/,
  );
  assert.deepEqual(
    openAIEngineOptions(
      loadConfig({ ...base, OPENAI_API_KEY: "k", LANTERN_MODEL: "m" }),
    ),
    {
      baseUrl: DEFAULT_BASE_URL,
      apiKey: "k",
      model: "m",
      timeoutMs: 60_000,
      maxRetries: 2,
    },
  );
});

Deno.test("runAgent() with the OpenAI engine saves a memory, streams tokens and reports usage", async () => {
  await using fake = startFakeOpenAI();
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = {
      messages: new MessageStore(kv),
      memories: new MemoryStore(kv),
    };
    const project = await new ProjectStore(kv).create("Rocket");
    const userMessage = await stores.messages.add(project.id, {
      role: "user",
      content: "remember that the launch is on May 3",
      runId: "r1",
    });
    fake.script(
      {
        toolCalls: [{ name: "save_memory", arguments: { text: LAUNCH } }],
        usage: { prompt_tokens: 100, completion_tokens: 20 },
      },
      {
        text: "Got it: the launch is on May 3.",
        pieces: 4,
        usage: { prompt_tokens: 150, completion_tokens: 10 },
      },
    );
    const events: AgentEvent[] = [];

    await runAgent({
      runId: "r1",
      project,
      userMessage,
      stores,
      engine: engineFor(fake),
      signal: new AbortController().signal,
    }, (event) => events.push(event));

    const memories = await stores.memories.list(project.id);
    assert.deepEqual(memories.map((m) => [m.text, m.source, m.runId]), [[
      LAUNCH,
      "agent",
      "r1",
    ]]);
    const tokens = events.flatMap((e) => e.type === "token" ? [e.delta] : []);
    assert.equal(tokens.length, 4);
    assert.equal(tokens.join(""), "Got it: the launch is on May 3.");
    const last = events.at(-1);
    assert.equal(last?.type, "result", JSON.stringify(last));
    assert.ok(last?.type === "result");
    assert.equal(last.result.engine, "openai");
    assert.equal(last.result.message, "Got it: the launch is on May 3.");
    assert.deepEqual(last.result.usage, {
      model: "test-model",
      inputTokens: 250,
      outputTokens: 30,
    });
    assert.deepEqual(last.result.memories.added.map((m) => m.text), [LAUNCH]);
    const answerRequest = fake.requests[1]?.body.messages ?? [];
    assert.match(
      answerRequest.at(-1)?.content ?? "",
      /Saved \\"The launch is on May 3\.\\"/,
    );
  } finally {
    kv.close();
  }
});
