/**
 * The OpenAI engine says why it plans each tool call, as the local engine
 * does: every tool offers the model a required `why` argument; the model's
 * words become the action's `why` (out of the tool's arguments), or, when a
 * call has none, the text the model wrote before its calls does. With
 * neither, the action has no why: none is made up. Against the fake
 * OpenAI-compatible server, through the real agent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OpenAIEngine } from "../lib/agent/openai_engine.ts";
import { validatePlan } from "../lib/agent/tools.ts";
import type { AgentEvent, PlanAction, Progress } from "../lib/protocol.ts";
import { createStores } from "../lib/store/mod.ts";
import { type FakeOpenAI, type FakeReply, startFakeOpenAI } from "./fake_openai_server.ts";
import { agentEvents } from "./helpers.ts";

const SAVE_WHY = "You said to remember that the launch is on May 3.";

function engineFor(fake: FakeOpenAI): OpenAIEngine {
  return new OpenAIEngine({
    baseUrl: fake.url,
    apiKey: "k",
    model: "test-model",
    timeoutMs: 5_000,
    maxRetries: 0,
  });
}

/** One run of `message` in a fresh project, the model replying with `planning` then a short answer. */
async function run(
  message: string,
  planning: FakeReply,
): Promise<{ events: AgentEvent[]; fake: FakeOpenAI }> {
  const fake = startFakeOpenAI();
  fake.script(planning, { text: "Done." });
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = createStores(kv);
    const project = await stores.projects.create("Why");
    const events = await agentEvents(stores, project, message, engineFor(fake), "run-1");
    return { events, fake };
  } finally {
    kv.close();
  }
}

/** The plan as the planning step (end), the validation step (end) and the execution step (start) show it. */
function stepsOf(events: AgentEvent[]): Progress[] {
  const progress = events.flatMap((e) => e.type === "progress" ? [e.progress] : []);
  return [
    progress.find((p) => p.step === "planning" && p.phase === "end")!,
    progress.find((p) => p.step === "validation" && p.phase === "end")!,
    progress.find((p) => p.step === "execution" && p.phase === "start")!,
  ];
}

function actionsOf(events: AgentEvent[]): PlanAction[] {
  return events.flatMap((e) =>
    e.type === "action" ? [{ tool: e.action.tool, args: e.action.args, why: e.action.why }] : []
  );
}

Deno.test("every tool the model is offered asks for a why, and the planner's prompt says so", async () => {
  const { fake } = await run("Remember that the launch is on May 3", { text: "Nothing to do." });
  await using _ = fake;
  const body = fake.requests[0]!.body;
  for (const tool of body.tools ?? []) {
    const parameters = tool.function.parameters as {
      properties: Record<string, unknown>;
      required: string[];
    };
    assert.ok(parameters.required.includes("why"), `${tool.function.name} requires a why`);
    assert.equal((parameters.properties.why as { type: string }).type, "string");
  }
  assert.match(body.messages[0]?.content ?? "", /Give every call a "why"/);
});

Deno.test("the model's why leaves the arguments and shows in the steps and the action event", async () => {
  const { events, fake } = await run("Remember that the launch is on May 3", {
    toolCalls: [{
      name: "save_memory",
      arguments: { text: "The launch is on May 3", why: `  ${SAVE_WHY} ` },
    }],
  });
  await using _ = fake;
  const plan = [{ tool: "save_memory", args: { text: "The launch is on May 3" }, why: SAVE_WHY }];
  for (const step of stepsOf(events)) {
    assert.deepEqual(
      (step.metadata.plan as PlanAction[]).map(({ tool, args, why }) => ({ tool, args, why })),
      plan,
      `the ${step.step} step's plan`,
    );
    assert.ok(step.details.includes(`Why: ${SAVE_WHY}`), `the ${step.step} step's details:\n${step.details}`);
  }
  assert.deepEqual(actionsOf(events), plan);
  // The tool got its own arguments only: the memory was saved (a strict schema would refuse "why").
  assert.ok(validatePlan(plan).ok);
  const last = events.at(-1);
  assert.ok(last?.type === "result", JSON.stringify(last));
  assert.deepEqual(last.result.memories.added.map((m) => m.text), ["The launch is on May 3"]);
  // The answer call sees the arguments the tool ran with, without the why.
  const answer = fake.requests[1]!.body.messages;
  const calls = answer.flatMap((m) => m.role === "assistant" && m.tool_calls ? m.tool_calls : []);
  assert.deepEqual(calls.map((c) => JSON.parse(c.function.arguments)), [{ text: "The launch is on May 3" }]);
});

Deno.test("without a why argument, the text the model wrote before its calls is the why", async () => {
  const said = "You asked when the launch is, so I will look it up.";
  const { events, fake } = await run("When is the launch?", {
    text: said,
    toolCalls: [{ name: "search_memories", arguments: { query: "launch" } }],
  });
  await using _ = fake;
  assert.deepEqual(actionsOf(events), [{ tool: "search_memories", args: { query: "launch" }, why: said }]);
  for (const step of stepsOf(events)) assert.ok(step.details.includes(`Why: ${said}`), step.details);
});

Deno.test("with neither a why nor any text, an action has no why: none is made up", async () => {
  const { events, fake } = await run("What do you remember?", {
    toolCalls: [{ name: "list_memories", arguments: { why: "   " } }],
  });
  await using _ = fake;
  assert.deepEqual(actionsOf(events), [{ tool: "list_memories", args: {}, why: undefined }]);
  for (const step of stepsOf(events)) {
    assert.ok(!step.details.includes("Why:"), `the ${step.step} step's details:\n${step.details}`);
    assert.ok(!("why" in (step.metadata.plan as PlanAction[])[0]!), `the ${step.step} step's plan`);
  }
});
