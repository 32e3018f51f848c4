/**
 * The planning-first agent: eight steps, always in order, each announced
 * when it starts and when it ends. {@linkcode runAgent} is the one entry
 * point; it yields events as they happen and never batches them.
 *
 * @module
 */

import type {
  ActionResult,
  AgentEvent,
  ChatResult,
  Memory,
  Message,
  PlanAction,
  Progress,
  ProgressPhase,
  Project,
  StepName,
  Usage,
} from "../protocol.ts";
import type { MemoryStore } from "../store/memories.ts";
import type { MessageStore } from "../store/messages.ts";
import { type Engine, type EngineContext, EngineError } from "./engine.ts";
import { type PlanProblem, runTool, validatePlan } from "./tools.ts";

/** The stores the agent reads and writes. */
export interface AgentStores {
  messages: MessageStore;
  memories: MemoryStore;
}

/** Everything a run needs. */
export interface AgentInput {
  runId: string;
  project: Project;
  /** The user's message, already recorded in the conversation. */
  userMessage: Message;
  stores: AgentStores;
  engine: Engine;
  signal: AbortSignal;
}

/** How many earlier messages the context step loads. */
export const HISTORY_LIMIT = 40;

/** Thrown inside the agent to end the run with an `error` event. */
class StepError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function progress(
  step: StepName,
  phase: ProgressPhase,
  message: string,
  details = "",
  metadata: Record<string, unknown> = {},
): AgentEvent {
  const payload: Progress = {
    step,
    phase,
    message,
    details,
    timestamp: new Date().toISOString(),
    metadata,
  };
  return { type: "progress", progress: payload };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function describePlan(plan: PlanAction[]): string {
  // Before validation a plan is whatever the engine returned: describe it without trusting it.
  if (!Array.isArray(plan)) return "The plan is not a list of actions.";
  if (plan.length === 0) return "No tool is needed.";
  return plan.map((a, i) => {
    const tool = typeof a?.tool === "string" ? a.tool : "?";
    let args: string;
    try {
      args = JSON.stringify(a?.args) ?? "";
    } catch {
      args = "…";
    }
    return `${i + 1}. ${tool}(${args})`;
  }).join("\n");
}

function describeProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `Action ${p.index + 1}: ${p.message}`).join("\n");
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted ||
    (error instanceof DOMException && error.name === "AbortError");
}

/**
 * Runs the agent for one message and yields its events as they happen:
 * progress for each step's start and end (and each tool action), the answer's
 * tokens, then one `result`, or an `error` naming the step that failed.
 * Aborting the signal stops it at the next await; the caller reports that.
 *
 * @example
 * ```ts
 * import { runAgent } from "./run_agent.ts";
 * import { LocalEngine } from "./local_engine.ts";
 * import { MemoryStore } from "../store/memories.ts";
 * import { MessageStore } from "../store/messages.ts";
 *
 * const kv = await Deno.openKv(":memory:");
 * const stores = { messages: new MessageStore(kv), memories: new MemoryStore(kv) };
 * const project = { id: "p1", name: "Demo", createdAt: new Date().toISOString() };
 * const userMessage = await stores.messages.add("p1", { role: "user", content: "Remember that tea is at 4", runId: "r1" });
 * for await (const event of runAgent({
 *   runId: "r1", project, userMessage, stores, engine: new LocalEngine(), signal: new AbortController().signal,
 * })) {
 *   if (event.type === "result") console.log(event.result.message);
 * }
 * kv.close();
 * ```
 */
export async function* runAgent(input: AgentInput): AsyncGenerator<AgentEvent, void, void> {
  const { runId, project, userMessage, stores, engine, signal } = input;
  const durations: { step: StepName; durationMs: number }[] = [];
  let current: StepName = "start";
  let stepStarted = 0;
  const begin = (step: StepName, message: string, details = "", metadata = {}) => {
    current = step;
    stepStarted = performance.now();
    return progress(step, "start", message, details, metadata);
  };
  /** Opens a step, then lets the engine take its time (the local engine's pace). */
  async function* step(
    name: StepName,
    message: string,
    details = "",
    metadata: Record<string, unknown> = {},
  ): AsyncGenerator<AgentEvent, void, void> {
    yield begin(name, message, details, metadata);
    await engine.pace?.(name, signal);
  }
  const end = (message: string, details = "", metadata: Record<string, unknown> = {}) => {
    const durationMs = Number((performance.now() - stepStarted).toFixed(3));
    durations.push({ step: current, durationMs });
    return progress(current, "end", message, details, { ...metadata, durationMs });
  };
  const usage: Usage = { model: engine.model, inputTokens: 0, outputTokens: 0 };

  try {
    yield* step("start", "Run started", `Engine: ${engine.name} (${engine.model}).`, {
      engine: engine.name,
      model: engine.model,
    });
    yield end("Message received", userMessage.content.slice(0, 200), {
      messageId: userMessage.id,
      characters: userMessage.content.length,
    });

    yield* step("context", "Loading conversation and memories");
    const [recent, memories] = await Promise.all([
      stores.messages.list(project.id, HISTORY_LIMIT + 1),
      stores.memories.list(project.id),
    ]);
    const history = recent.filter((m) => m.id !== userMessage.id && m.runId !== runId);
    yield end(
      `Loaded ${count(history.length, "message", "messages")} and ${
        count(memories.length, "memory", "memories")
      }`,
      "",
      { messages: history.length, memories: memories.length },
    );

    const ctx: EngineContext = {
      runId,
      project,
      message: userMessage.content,
      history,
      memories,
      signal,
      usage,
    };

    yield* step("analyzing", "Working out what you want");
    const analysis = yield* notes("analyzing", engine.analyze(ctx));
    yield end(analysis.summary, "", { intent: analysis.intent, ...analysis.metadata });

    yield* step("planning", "Making a plan");
    let plan = yield* notes("planning", engine.plan(ctx, analysis));
    const planned = Array.isArray(plan) ? plan.length : 0;
    yield end(
      planned === 0 ? "No tool needed" : `Planned ${planned} ${planned === 1 ? "action" : "actions"}`,
      describePlan(plan),
      { plan, actions: planned },
    );

    yield* step("validation", "Checking the plan", "", { actions: planned });
    let checked = validatePlan(plan);
    if (!checked.ok && engine.replansInvalid) {
      yield progress(
        "validation",
        "update",
        `The plan has ${checked.problems.length} invalid ${
          checked.problems.length === 1 ? "action" : "actions"
        }; asking for a new one`,
        describeProblems(checked.problems),
        { problems: checked.problems, attempt: 1 },
      );
      plan = yield* notes("validation", engine.plan(ctx, analysis, checked.problems));
      checked = validatePlan(plan);
    }
    if (!checked.ok) {
      throw new StepError(
        "invalid_plan",
        `The plan is invalid: ${checked.problems.map((p) => p.message).join(" ")}`,
      );
    }
    plan = checked.plan;
    yield end("The plan is valid", describePlan(plan), { plan, actions: plan.length });

    yield* step(
      "execution",
      plan.length === 0
        ? "Nothing to run"
        : `Running ${plan.length} ${plan.length === 1 ? "action" : "actions"}`,
      "",
      {
        actions: plan.length,
      },
    );
    const actions: ActionResult[] = [];
    const added: Memory[] = [];
    const removed: Memory[] = [];
    for (const [index, action] of plan.entries()) {
      const started = performance.now();
      let result: ActionResult;
      try {
        const out = await runTool(action, {
          projectId: project.id,
          runId,
          memories: stores.memories,
          messages: stores.messages,
          signal,
        });
        added.push(...(out.added ?? []));
        removed.push(...(out.removed ?? []));
        result = {
          ...action,
          ok: true,
          summary: out.summary,
          output: out.output,
          durationMs: Number((performance.now() - started).toFixed(3)),
        };
      } catch (error) {
        if (isAbort(error, signal)) throw error;
        console.error(`Tool "${action.tool}" failed in run ${runId}:`, error);
        result = {
          ...action,
          ok: false,
          summary: `The tool "${action.tool}" failed.`,
          output: null,
          durationMs: Number((performance.now() - started).toFixed(3)),
        };
      }
      actions.push(result);
      yield progress("execution", "update", result.summary, JSON.stringify(action.args), {
        index,
        tool: action.tool,
        args: action.args,
        ok: result.ok,
        output: result.output,
        durationMs: result.durationMs,
      });
    }
    const failed = actions.filter((a) => !a.ok).length;
    yield end(
      failed === 0
        ? actions.length === 0 ? "No action needed" : `Ran ${count(actions.length, "action", "actions")}`
        : `${failed} of ${count(actions.length, "action", "actions")} failed`,
      "",
      { actions: actions.length, failed },
    );

    yield* step("memory", "Updating the project's memory");
    const total = (await stores.memories.list(project.id)).length;
    yield end(
      `${added.length} saved, ${removed.length} forgotten; ${total} in memory`,
      [...added.map((m) => `+ ${m.text}`), ...removed.map((m) => `- ${m.text}`)].join("\n"),
      { added: added.length, removed: removed.length, total },
    );

    yield* step("completion", "Writing the answer");
    let answer = "";
    for await (const chunk of engine.answer(ctx, analysis, { plan, actions, added, removed })) {
      if (chunk.kind === "token") {
        answer += chunk.delta;
        yield { type: "token", delta: chunk.delta };
      } else {
        yield progress("completion", "update", chunk.message, chunk.details, chunk.metadata);
      }
    }
    signal.throwIfAborted();
    const reply = await stores.messages.add(project.id, {
      role: "assistant",
      content: answer,
      runId,
    });
    yield end("Answer ready", "", {
      characters: answer.length,
      messageId: reply.id,
      ...(usage.inputTokens + usage.outputTokens > 0 ? { usage } : {}),
    });

    const result: ChatResult = {
      runId,
      message: answer,
      plan,
      actions,
      memories: { added, removed },
      steps: durations,
      engine: engine.name,
      ...(usage.inputTokens + usage.outputTokens > 0 ? { usage } : {}),
    };
    yield { type: "result", result };
  } catch (error) {
    if (isAbort(error, signal)) throw error;
    if (error instanceof StepError || error instanceof EngineError) {
      yield { type: "error", error: { code: error.code, message: error.message, step: current } };
      return;
    }
    console.error(`Run ${runId} failed in step "${current}":`, error);
    yield {
      type: "error",
      error: {
        code: "internal_error",
        message: `The ${current} step failed unexpectedly. Please try again.`,
        step: current,
      },
    };
  }

  /** Forwards an engine's notes as progress updates and returns its result. */
  async function* notes<T>(
    step: StepName,
    source: AsyncGenerator<
      { kind: "note"; message: string; details?: string; metadata?: Record<string, unknown> },
      T,
      void
    >,
  ): AsyncGenerator<AgentEvent, T, void> {
    while (true) {
      const next = await source.next();
      if (next.done) return next.value;
      yield progress(step, "update", next.value.message, next.value.details, next.value.metadata);
    }
  }
}
