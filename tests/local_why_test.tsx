/**
 * The planning, validation and execution steps show the real plan: each
 * tool, its arguments, and why the local engine chose it (the words of the
 * message and what it read in them). The reasons travel in the steps'
 * metadata and details, in each `action` event, through the wire schema,
 * and onto the page's step details.
 */

import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { StepRail } from "../components/StepRail.tsx";
import { LocalEngine } from "../lib/agent/local_engine.ts";
import type { AgentEvent, PlanAction, Progress, RunEvent } from "../lib/protocol.ts";
import { createStores } from "../lib/store/mod.ts";
import { foldEvents } from "../lib/timeline.ts";
import { parseRunEvent } from "../lib/wire_schema.ts";
import { agentEvents } from "./helpers.ts";

/** Runs messages in one fresh project (with memories added first) and returns the last run's events. */
async function lastRun(memories: string[], ...messages: string[]): Promise<AgentEvent[]> {
  const kv = await Deno.openKv(":memory:");
  try {
    const stores = createStores(kv);
    const project = await stores.projects.create("Why");
    for (const text of memories) await stores.memories.add(project.id, { text, source: "user" });
    const engine = new LocalEngine();
    let events: AgentEvent[] = [];
    for (const [i, message] of messages.entries()) {
      events = await agentEvents(stores, project, message, engine, `run-${i + 1}`);
    }
    return events;
  } finally {
    kv.close();
  }
}

/** The plan each of planning (end), validation (end) and execution (start) shows, and the actions run. */
function shown(events: AgentEvent[]): { steps: Progress[]; actions: PlanAction[] } {
  const progress = events.flatMap((e) => e.type === "progress" ? [e.progress] : []);
  const steps = [
    progress.find((p) => p.step === "planning" && p.phase === "end")!,
    progress.find((p) => p.step === "validation" && p.phase === "end")!,
    progress.find((p) => p.step === "execution" && p.phase === "start")!,
  ];
  const actions = events.flatMap((e) => e.type === "action" ? [e.action] : []);
  return { steps, actions };
}

/** Checks that every step shows `plan` (tools, arguments, why) in its metadata and details. */
function assertShown(events: AgentEvent[], plan: PlanAction[]): void {
  const { steps, actions } = shown(events);
  for (const p of steps) {
    assert.deepEqual(p.metadata.plan, plan, `the ${p.step} step's plan`);
    for (const [i, action] of plan.entries()) {
      assert.ok(
        p.details.includes(`${i + 1}. ${action.tool}(${JSON.stringify(action.args)})\n   Why: ${action.why}`),
        `the ${p.step} step's details show action ${i + 1} and why:\n${p.details}`,
      );
    }
  }
  assert.deepEqual(actions.map(({ tool, args, why }) => ({ tool, args, why })), plan);
}

Deno.test("remember: the steps show save_memory, its fact and subject, and the words that asked", async () => {
  const events = await lastRun([], "Remember that the launch is on May 3");
  assertShown(events, [{
    tool: "save_memory",
    args: { text: "The launch is on May 3", subject: "launch" },
    why: "“remember” asks to keep “The launch is on May 3”, about “launch” (a date).",
  }]);
});

Deno.test("update: the steps show the memory replaced and the words that said it changed", async () => {
  const kv = await Deno.openKv(":memory:");
  const stores = createStores(kv);
  const project = await stores.projects.create("Why");
  const old = await stores.memories.add(project.id, { text: "The launch is on May 3", source: "user" });
  const events = await agentEvents(stores, project, "The launch moved to May 10", new LocalEngine(), "run-1");
  kv.close();
  assertShown(events, [{
    tool: "save_memory",
    args: { text: "The launch moved to May 10", subject: "launch", replaces: [old.id] },
    why: "“moved to” reads as a change of “launch” (a date): it replaces “The launch is on May 3”.",
  }]);
  const actually = await lastRun(["The budget is $5,000"], "Actually the budget is $6,000");
  const [plan] = shown(actually).steps[0]!.metadata.plan as PlanAction[];
  assert.equal(
    plan?.why,
    "“Actually” reads as a change of “budget” (an amount): it replaces “The budget is $5,000”.",
  );
});

Deno.test("forget: the steps show delete_memory, its query, and the words that asked", async () => {
  const events = await lastRun(["The mascot is a fox"], "Please forget the mascot");
  assertShown(events, [{
    tool: "delete_memory",
    args: { query: "mascot" },
    why: "“forget” asks to forget what matches “mascot”.",
  }]);
  const quoted = await lastRun(["Tea is at 4"], 'Forget "tea is at 4"');
  assert.match(shown(quoted).actions[0]?.why ?? "", /, word for word\.$/);
});

Deno.test("several requests in one message: each action has its own why, in order", async () => {
  const events = await lastRun(
    ["The launch is on May 3"],
    "Remember that Ana leads design and tell me when the launch is",
  );
  assertShown(events, [
    {
      tool: "save_memory",
      args: { text: "Ana leads design", subject: "ana" },
      why: "“remember” asks to keep “Ana leads design”, about “ana” (what someone does).",
    },
    {
      tool: "search_memories",
      args: { query: "the launch" },
      why: "“tell me” asks when about “the launch”, so the memories are searched for it.",
    },
  ]);
  const check = await lastRun(["The launch is on May 3"], "Is the launch on June 1? List memories");
  assert.deepEqual(shown(check).actions.map((a) => [a.tool, a.why]), [
    [
      "search_memories",
      "“is …?” asks whether “the launch is on June 1”: what is known about “the launch” is searched to answer yes or no.",
    ],
    ["list_memories", "“list … memories” asks for every memory."],
  ]);
});

Deno.test("the why reaches API clients through the wire schema and the page's step details", async () => {
  const events = await lastRun([], "Remember that the launch is on May 3");
  const wire: RunEvent[] = events.map((e, i) => ({ ...e, runId: "run-1", seq: i + 1, ts: i }) as RunEvent);
  const action = wire.find((e) => e.type === "action")!;
  const parsed = parseRunEvent(JSON.stringify(action));
  assert.equal(parsed?.type, "action");
  const why = "“remember” asks to keep “The launch is on May 3”, about “launch” (a date).";
  assert.equal(parsed?.type === "action" ? parsed.action.why : null, why);

  const timeline = foldEvents(wire.map((e) => parseRunEvent(JSON.stringify(e))!), "run-1");
  const html = renderToString(
    <StepRail runId="run-1" timeline={timeline} info={null} open now={0} href="/p/run-1" />,
  );
  // The page says why once, under planning; validation and execution show the action without it.
  for (const step of ["planning", "validation", "execution"]) {
    const at = html.indexOf(`data-step-detail="${step}"`);
    assert.ok(at >= 0, `the ${step} step is listed`);
    const item = html.slice(at, html.indexOf("</li>", html.indexOf('class="step-details"', at)));
    assert.ok(item.includes("1. save_memory("), `the ${step} step's details show the action:\n${item}`);
    assert.equal(item.includes(why), step === "planning", `the ${step} step's details and the why:\n${item}`);
  }
});
