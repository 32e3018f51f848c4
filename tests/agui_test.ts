import assert from "node:assert/strict";
import { type BaseEvent, EventType, type Message as AguiMessage } from "@ag-ui/core";
import { EventSchema } from "@ag-ui/core/schemas";
import { HttpAgent } from "@ag-ui/client";
import { EngineError, type EngineNote, type EngineToken } from "../lib/agent/engine.ts";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import { createApp } from "../lib/app.ts";
import { loadConfig } from "../lib/config.ts";
import { STEPS } from "../lib/protocol.ts";
import type { ChatResult, Memory, Message, RunEvent, RunRecord } from "../lib/protocol.ts";
import { AguiMapper } from "../lib/agui/mapper.ts";
import { RunRegistry } from "../lib/runs/registry.ts";
import { createStores } from "../lib/store/mod.ts";
import { call, createProject, eventually, startServer, TEST_ENV, within } from "./helpers.ts";

type AnyEvent = BaseEvent & Record<string, unknown>;

const aguiUrl = (url: string, projectId: string) => `${url}/api/projects/${projectId}/agui`;

/** What a run of the real client saw. */
interface ClientRun {
  agent: HttpAgent;
  events: AnyEvent[];
  result: unknown;
  /** What `@ag-ui/client` printed: any refused or stripped event shows up here. */
  complaints: string[];
}

/**
 * Runs `@ag-ui/client`'s HttpAgent against a Lantern project and collects
 * every event it applied. `onEvent` may act on the run as it goes.
 */
async function runClient(
  url: string,
  projectId: string,
  messages: AguiMessage[],
  onEvent: (event: AnyEvent, agent: HttpAgent) => void | Promise<void> = () => {},
  agent = new HttpAgent({ url: aguiUrl(url, projectId), initialMessages: messages }),
): Promise<ClientRun> {
  const events: AnyEvent[] = [];
  const complaints: string[] = [];
  const { warn, error } = console;
  console.warn = (...args: unknown[]) => void complaints.push(args.map(String).join(" "));
  console.error = (...args: unknown[]) => void complaints.push(args.map(String).join(" "));
  try {
    const { result } = await agent.runAgent({}, {
      async onEvent({ event }) {
        events.push(event as AnyEvent);
        await onEvent(event as AnyEvent, agent);
      },
    });
    return { agent, events, result, complaints };
  } finally {
    console.warn = warn;
    console.error = error;
  }
}

function userMessage(content: string, id = crypto.randomUUID()): AguiMessage {
  return { id, role: "user", content };
}

function lanternRunId(events: AnyEvent[]): string {
  const started = events[0] as { metadata?: { lantern?: { runId?: string } } };
  const id = started.metadata?.lantern?.runId;
  assert.ok(id, "RUN_STARTED carries Lantern's run id");
  return id;
}

function assertStepsPaired(events: AnyEvent[], steps: readonly string[]): void {
  const started = events.filter((e) => e.type === EventType.STEP_STARTED).map((e) => e.stepName);
  const finished = events.filter((e) => e.type === EventType.STEP_FINISHED).map((e) => e.stepName);
  assert.deepEqual(started, steps);
  assert.deepEqual(finished, steps);
}

/** The local engine, except that its answer waits for `release()` after the first token. */
class GatedEngine extends LocalEngine {
  readonly #gate = Promise.withResolvers<void>();

  release(): void {
    this.#gate.resolve();
  }

  override async *answer(
    ...args: Parameters<LocalEngine["answer"]>
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    const [ctx] = args;
    yield { kind: "token", delta: "Working on it. " };
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(ctx.signal.reason);
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      this.#gate.promise.then(() => {
        ctx.signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
    yield* super.answer(...args);
  }
}

/** The local engine, except that its model "goes away" in the middle of the answer. */
class FailingEngine extends LocalEngine {
  override async *answer(): AsyncGenerator<EngineNote | EngineToken, void, void> {
    yield { kind: "token", delta: "Half an answer" };
    throw new EngineError("model_unavailable", "The model stopped answering.");
  }
}

/** Lantern over an engine of the test's choosing, served on loopback. */
async function startWithEngine(engine: LocalEngine, env: Record<string, string> = {}) {
  const config = loadConfig({ ...TEST_ENV, ...env });
  const kv = await Deno.openKv(":memory:");
  const stores = createStores(kv);
  const runs = new RunRegistry({ stores, engine, runTtlMs: config.runTtlMs, leaseMs: config.leaseMs });
  await runs.init();
  const app = createApp({ config, stores, runs });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    runs,
    async [Symbol.asyncDispose]() {
      const stopping = server.shutdown();
      await runs.close(0);
      await stopping;
      kv.close();
    },
  };
}

Deno.test("@ag-ui/client's HttpAgent runs Lantern's agent end to end with no event refused", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const run = await runClient(server.url, project.id, [userMessage("Remember that the demo is on Friday")]);
  const { agent, events, complaints } = run;

  assert.deepEqual(complaints, []);
  for (const event of events) EventSchema.parse(event);
  assert.equal(events[0]?.type, EventType.RUN_STARTED);
  assert.equal(events[0]?.threadId, agent.threadId);
  assert.equal(events.at(-1)?.type, EventType.RUN_FINISHED);
  assertStepsPaired(events, STEPS);

  // The native run is the source: the client's answer is its answer.
  const runId = lanternRunId(events);
  const native = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${runId}`);
  assert.equal(native.body.status, "succeeded");
  const answer = native.body.result!.message;
  assert.ok(answer.length > 0);
  assert.equal((run.result as ChatResult).message, answer);
  const assistant = agent.messages.filter((m) => m.role === "assistant" && typeof m.content === "string");
  assert.deepEqual(assistant.map((m) => m.content), [answer]);

  // The tool action, with its result.
  const start = events.find((e) => e.type === EventType.TOOL_CALL_START);
  assert.equal(start?.toolCallName, "save_memory");
  const args = events.filter((e) => e.type === EventType.TOOL_CALL_ARGS).map((e) => e.delta).join("");
  // The local engine names the fact's subject (issue 16).
  assert.deepEqual(JSON.parse(args), { text: "The demo is on Friday", subject: "demo" });
  const result = events.find((e) => e.type === EventType.TOOL_CALL_RESULT);
  assert.equal(result?.toolCallId, start?.toolCallId);
  const output = JSON.parse(String(result?.content));
  assert.equal(output.ok, true);
  assert.equal(output.output.text, "The demo is on Friday");
  assert.ok(agent.messages.some((m) => m.role === "tool" && m.toolCallId === start?.toolCallId));

  // The memories as state: empty at first, then with what the run saved.
  const snapshots = events.filter((e) => e.type === EventType.STATE_SNAPSHOT);
  assert.equal(snapshots.length, 2);
  assert.deepEqual((snapshots[0]!.snapshot as { memories: Memory[] }).memories, []);
  const state = agent.state as { memories: Memory[] };
  assert.deepEqual(state.memories.map((m) => m.text), ["The demo is on Friday"]);

  // The answer landed in the project's conversation too.
  const conversation = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(conversation.body.map((m) => [m.role, m.content]), [
    ["user", "Remember that the demo is on Friday"],
    ["assistant", answer],
  ]);

  // A second turn on the same thread: the client sends the whole thread back
  // (tool calls and results included); Lantern answers its last user message.
  agent.addMessage(userMessage("When is the demo?"));
  const second = await runClient(server.url, project.id, [], () => {}, agent);
  assert.deepEqual(second.complaints, []);
  assert.equal(second.events.at(-1)?.type, EventType.RUN_FINISHED);
  const first = second.events.find((e) => e.type === EventType.STATE_SNAPSHOT);
  assert.deepEqual((first?.snapshot as { memories: Memory[] }).memories.map((m) => m.text), [
    "The demo is on Friday",
  ]);
  const reply = String(agent.messages.at(-1)?.content);
  assert.match(reply, /Friday/);
});

Deno.test("the AG-UI stream is AG-UI's event stream, with keep-alives while the run is quiet", async () => {
  const engine = new GatedEngine();
  await using server = await startWithEngine(engine, { LANTERN_HEARTBEAT_MS: "10" });
  const project = await createProject(server.url);
  const res = await fetch(aguiUrl(server.url, project.id), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ threadId: "t1", runId: "r1", messages: [userMessage("Hello")] }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(res.headers.get("cache-control"), "no-cache, no-transform");
  assert.equal(res.headers.get("x-accel-buffering"), "no");
  const runId = res.headers.get("x-run-id");
  assert.ok(runId);

  // The engine holds its answer, so the stream falls silent and keeps alive.
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  // Deadlines: with keep-alives broken the silent stream would otherwise hang the suite.
  await within(
    "a keep-alive on the silent AG-UI stream",
    (async () => {
      while (!text.includes(": keep-alive\n\n")) {
        const { value, done } = await reader.read();
        assert.ok(!done, "the stream ended before a keep-alive");
        text += value;
      }
    })(),
  ).catch(async (error) => {
    await reader.cancel();
    throw error;
  });
  engine.release();
  await within(
    "the AG-UI stream to end after the run",
    (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    })(),
  );
  // Every frame is a comment or a single `data:` line of JSON.
  const frames = text.split("\n\n").filter(Boolean);
  for (const frame of frames) assert.match(frame, /^(?:: keep-alive|data: \{.*\})$/);
  const events = frames.filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)) as AnyEvent);
  for (const event of events) EventSchema.parse(event);
  assert.equal(events[0]?.type, EventType.RUN_STARTED);
  assert.equal(events[0]?.threadId, "t1");
  assert.equal(events[0]?.runId, "r1");
  assert.equal(lanternRunId(events), runId);
  assert.equal(events.at(-1)?.type, EventType.RUN_FINISHED);
  assert.equal(events.at(-1)?.runId, "r1");
  await eventually("the stream is released", () => server.runs.stats().streams === 0);
  assert.equal(server.runs.stats().streamTimers, 0);
});

Deno.test("a run that fails ends the client's run with RUN_ERROR and nothing after it", async () => {
  await using server = await startWithEngine(new FailingEngine());
  const project = await createProject(server.url);
  const { events, complaints } = await runClient(server.url, project.id, [userMessage("Hello there")]);
  assert.deepEqual(complaints, []);
  for (const event of events) EventSchema.parse(event);
  const last = events.at(-1)!;
  assert.equal(last.type, EventType.RUN_ERROR);
  assert.equal(last.code, "model_unavailable");
  assert.equal(last.message, "The model stopped answering.");
  assert.equal(events.filter((e) => e.type === EventType.RUN_ERROR).length, 1);
  assert.ok(!events.some((e) => e.type === EventType.RUN_FINISHED));
  const runId = lanternRunId(events);
  const native = await call<RunRecord>(`${server.url}/api/projects/${project.id}/runs/${runId}`);
  assert.equal(native.body.status, "failed");
  assert.equal(native.body.error?.code, "model_unavailable");
});

Deno.test("a run stopped mid-answer finishes the client's run with outcome cancelled", async () => {
  await using server = await startWithEngine(new GatedEngine());
  const project = await createProject(server.url);
  const seen: AnyEvent[] = [];
  let cancelStatus = 0;
  const { events, complaints, agent } = await runClient(
    server.url,
    project.id,
    [userMessage("Hello there")],
    async (event) => {
      seen.push(event);
      if (event.type !== EventType.TEXT_MESSAGE_CONTENT) return;
      // Stopped through Lantern's own API: AG-UI has no way to stop a run.
      const res = await call(`${server.url}/api/projects/${project.id}/runs/${lanternRunId(seen)}/cancel`, {
        method: "POST",
      });
      cancelStatus = res.status;
    },
  );
  assert.equal(cancelStatus, 200);
  assert.deepEqual(complaints, []);
  for (const event of events) EventSchema.parse(event);
  // The open message and step are closed before the run finishes.
  assert.deepEqual(events.slice(-3).map((e) => e.type), [
    EventType.TEXT_MESSAGE_END,
    EventType.STEP_FINISHED,
    EventType.RUN_FINISHED,
  ]);
  assertStepsPaired(events, STEPS);
  assert.deepEqual(events.at(-1)?.outcome, { type: "cancelled" });
  assert.equal(String(agent.messages.at(-1)?.content), "Working on it. ");
});

Deno.test("a client that goes away stops its stream but not the run", async () => {
  const engine = new GatedEngine();
  await using server = await startWithEngine(engine);
  const project = await createProject(server.url);
  const { events } = await runClient(server.url, project.id, [userMessage("Remember that tea is at 4")], (
    event,
    agent,
  ) => {
    if (event.type === EventType.RUN_STARTED) agent.abortRun();
  });
  assert.equal(events[0]?.type, EventType.RUN_STARTED);
  assert.ok(!events.some((e) => e.type === EventType.RUN_FINISHED));
  const runId = lanternRunId(events);
  await eventually("the server lets go of the stream", () => server.runs.stats().streams === 0);
  assert.equal(server.runs.stats().streamTimers, 0);

  engine.release();
  const runUrl = `${server.url}/api/projects/${project.id}/runs/${runId}`;
  await eventually("the run finishes", async () => (await call<RunRecord>(runUrl)).body.status !== "running");
  const native = await call<RunRecord>(runUrl);
  assert.equal(native.body.status, "succeeded");
  const conversation = await call<Message[]>(`${server.url}/api/projects/${project.id}/messages`);
  assert.deepEqual(conversation.body.map((m) => m.role), ["user", "assistant"]);
  assert.equal(conversation.body[1]!.content, native.body.result!.message);
  const memories = await call<Memory[]>(`${server.url}/api/projects/${project.id}/memories`);
  assert.deepEqual(memories.body.map((m) => m.text), ["Tea is at 4"]);
});

Deno.test("a body that is not a RunAgentInput with a user message is refused with a 4xx", async () => {
  await using server = await startServer();
  const project = await createProject(server.url);
  const url = aguiUrl(server.url, project.id);
  const valid = { threadId: "t1", runId: "r1", messages: [userMessage("Hello")] };

  const cases: [string, { body: unknown; headers?: Record<string, string> }, number, string][] = [
    ["not JSON", { body: "{nope" }, 400, "invalid_json"],
    ["not a RunAgentInput", { body: { threadId: 1, messages: "hi" } }, 400, "invalid_body"],
    [
      "a message of an unknown role",
      {
        body: { ...valid, messages: [{ id: "1", role: "robot", content: "hi" }] },
      },
      400,
      "invalid_body",
    ],
    ["no messages", { body: { ...valid, messages: [] } }, 400, "no_user_message"],
    [
      "no user message",
      {
        body: { ...valid, messages: [{ id: "1", role: "assistant", content: "Hi, how can I help?" }] },
      },
      400,
      "no_user_message",
    ],
    ["an empty user message", { body: { ...valid, messages: [userMessage("   ")] } }, 400, "invalid_message"],
    [
      "a form",
      {
        body: "threadId=t1",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      415,
      "unsupported_media_type",
    ],
  ];
  for (const [what, init, status, code] of cases) {
    const res = await call<{ error: { code: string; message: string } }>(url, init);
    assert.equal(res.status, status, what);
    assert.equal(res.body.error.code, code, what);
    assert.ok(res.body.error.message.length > 0, what);
  }
  const missing = await call<{ error: { code: string } }>(aguiUrl(server.url, "nope"), { body: valid });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "project_not_found");

  // Nothing was started by a refused request.
  const runs = await call<RunRecord[]>(`${server.url}/api/projects/${project.id}/runs`);
  assert.deepEqual(runs.body, []);
});

Deno.test("an event type the AG-UI mapper has no event for travels whole as CUSTOM lantern.<type>", () => {
  const mapper = new AguiMapper({ threadId: "t1", runId: "c1", lanternRunId: "r1", projectId: "p1" });
  mapper.start([]);
  // A newer server's event, unknown to this mapper: not dropped, not an error.
  const newer = { type: "note", runId: "r1", seq: 2, ts: 1_000, note: { text: "Hi" } } as unknown as RunEvent;
  const out = mapper.map(newer);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], { type: EventType.CUSTOM, timestamp: 1_000, name: "lantern.note", value: newer });
  assert.equal(EventSchema.safeParse(out[0]).success, true);
  assert.equal(mapper.ended, false);
});
