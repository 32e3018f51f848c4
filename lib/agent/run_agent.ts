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
  Usage,
} from "../protocol.ts";
import { PROTOCOL_VERSION } from "../protocol.ts";
import { plural } from "../plural.ts";
import { STEP_TABLE, type StepName, STEPS } from "../steps.ts";
import type { MemoryStore } from "../store/memories.ts";
import type { MessageStore } from "../store/messages.ts";
import { type Analysis, type Engine, type EngineContext, EngineError } from "./engine.ts";
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
    const why = typeof a?.why === "string" && a.why.trim() !== "" ? `\n   Why: ${a.why.trim()}` : "";
    return `${i + 1}. ${tool}(${args})${why}`;
  }).join("\n");
}

/** The longest `why` an action keeps, in characters. */
export const MAX_WHY_CHARS = 300;

/** A validated action with its `why` kept only when it is a sentence (trimmed, at most 300 characters). */
function withWhy(action: PlanAction): PlanAction {
  if (!("why" in action)) return action;
  const { why, ...rest } = action;
  if (typeof why !== "string" || why.trim() === "") return rest;
  const text = why.trim();
  return { ...rest, why: text.length > MAX_WHY_CHARS ? `${text.slice(0, MAX_WHY_CHARS - 1)}…` : text };
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
 * progress for each step's start and end (in the order of lib/steps.ts), an
 * `action` for each tool action, the answer's tokens, then one `result`, or
 * an `error` naming the step that failed.
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
  const { engine, signal } = input;
  const state: RunState = {
    input,
    usage: { model: engine.model, inputTokens: 0, outputTokens: 0 },
    durations: [],
    ctx: null,
    analysis: null,
    plan: [],
    actions: [],
    added: [],
    removed: [],
    answer: "",
    replyId: null,
  };
  let current: StepName = STEPS[0];
  try {
    for (const name of STEPS) {
      current = name;
      const handler = HANDLERS[name];
      const started = performance.now();
      const opening = handler.opening?.(state) ?? {};
      yield progress(
        name,
        "start",
        opening.message ?? STEP_TABLE[name].starting,
        opening.details,
        opening.metadata,
      );
      await engine.pace?.(name, signal);
      const ending = yield* handler.run(state);
      const durationMs = Number((performance.now() - started).toFixed(3));
      state.durations.push({ step: name, durationMs });
      yield progress(name, "end", ending.message, ending.details, { ...ending.metadata, durationMs });
    }
    yield { type: "result", result: resultOf(state) };
  } catch (error) {
    if (isAbort(error, signal)) throw error;
    if (error instanceof StepError || error instanceof EngineError) {
      yield { type: "error", error: { code: error.code, message: error.message, step: current } };
      return;
    }
    console.error(`Run ${input.runId} failed in step "${current}":`, error);
    yield {
      type: "error",
      error: {
        code: "internal_error",
        message: `The ${current} step failed unexpectedly. Please try again.`,
        step: current,
      },
    };
  }
}

/** What the steps of one run share. */
interface RunState {
  input: AgentInput;
  usage: Usage;
  durations: { step: StepName; durationMs: number }[];
  ctx: EngineContext | null;
  analysis: Analysis | null;
  plan: PlanAction[];
  actions: ActionResult[];
  added: Memory[];
  removed: Memory[];
  answer: string;
  replyId: string | null;
}

/** What a step says as it starts or ends. */
interface StepWords {
  message?: string;
  details?: string;
  metadata?: Record<string, unknown>;
}

/** One step: what it says as it starts (default: the step table's words), and its work. */
interface StepHandler {
  opening?(state: RunState): StepWords;
  run(state: RunState): AsyncGenerator<AgentEvent, StepWords & { message: string }, void>;
}

/** The work of each step; the order comes from lib/steps.ts. */
const HANDLERS: Record<StepName, StepHandler> = {
  start: {
    opening: ({ input: { engine } }) => ({
      details: `Engine: ${engine.name} (${engine.model}).`,
      metadata: { engine: engine.name, model: engine.model, protocol: PROTOCOL_VERSION },
    }),
    // deno-lint-ignore require-yield
    async *run({ input: { userMessage } }) {
      return {
        message: "Message received",
        details: userMessage.content.slice(0, 200),
        metadata: { messageId: userMessage.id, characters: userMessage.content.length },
      };
    },
  },
  context: {
    // deno-lint-ignore require-yield
    async *run(state) {
      const { runId, project, userMessage, stores, signal } = state.input;
      const [recent, memories] = await Promise.all([
        stores.messages.list(project.id, HISTORY_LIMIT + 1),
        stores.memories.list(project.id),
      ]);
      const history = recent.filter((m) => m.id !== userMessage.id && m.runId !== runId);
      state.ctx = {
        runId,
        project,
        message: userMessage.content,
        history,
        memories,
        signal,
        usage: state.usage,
      };
      return {
        message: `Loaded ${plural(history.length, "message")} and ${
          plural(memories.length, "memory", "memories")
        }`,
        details: "",
        metadata: { messages: history.length, memories: memories.length },
      };
    },
  },
  analyzing: {
    async *run(state) {
      const analysis = yield* notes("analyzing", state.input.engine.analyze(state.ctx!));
      state.analysis = analysis;
      return { message: analysis.summary, metadata: { intent: analysis.intent, ...analysis.metadata } };
    },
  },
  planning: {
    async *run(state) {
      state.plan = yield* notes("planning", state.input.engine.plan(state.ctx!, state.analysis!));
      const planned = Array.isArray(state.plan) ? state.plan.length : 0;
      return {
        message: planned === 0 ? "No tool needed" : `Planned ${plural(planned, "action")}`,
        details: describePlan(state.plan),
        // Shown as the engine gave it (validation judges it next), but a `why` only when it is a sentence.
        metadata: {
          plan: Array.isArray(state.plan)
            ? state.plan.map((a) => typeof a === "object" && a !== null ? withWhy(a) : a)
            : state.plan,
          actions: planned,
        },
      };
    },
  },
  validation: {
    opening: ({ plan }) => ({ metadata: { actions: Array.isArray(plan) ? plan.length : 0 } }),
    async *run(state) {
      const { engine } = state.input;
      let checked = validatePlan(state.plan);
      if (!checked.ok && engine.replansInvalid) {
        yield progress(
          "validation",
          "update",
          `The plan has ${plural(checked.problems.length, "invalid action")}; asking for a new one`,
          describeProblems(checked.problems),
          { problems: checked.problems, attempt: 1 },
        );
        state.plan = yield* notes("validation", engine.plan(state.ctx!, state.analysis!, checked.problems));
        checked = validatePlan(state.plan);
      }
      if (!checked.ok) {
        throw new StepError(
          "invalid_plan",
          `The plan is invalid: ${checked.problems.map((p) => p.message).join(" ")}`,
        );
      }
      state.plan = checked.plan.map(withWhy);
      return {
        message: "The plan is valid",
        details: describePlan(state.plan),
        metadata: { plan: state.plan, actions: state.plan.length },
      };
    },
  },
  execution: {
    opening: ({ plan }) => ({
      message: plan.length === 0 ? "Nothing to run" : `Running ${plural(plan.length, "action")}`,
      details: plan.length === 0 ? "" : describePlan(plan),
      metadata: { plan, actions: plan.length },
    }),
    async *run(state) {
      const { runId, project, stores, signal } = state.input;
      for (const [index, action] of state.plan.entries()) {
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
          state.added.push(...(out.added ?? []));
          state.removed.push(...(out.removed ?? []));
          result = {
            ...action,
            ok: true,
            summary: out.summary,
            output: out.output,
            durationMs: since(started),
          };
        } catch (error) {
          if (isAbort(error, signal)) throw error;
          console.error(`Tool "${action.tool}" failed in run ${runId}:`, error);
          result = {
            ...action,
            ok: false,
            summary: `The tool "${action.tool}" failed.`,
            output: null,
            durationMs: since(started),
          };
        }
        state.actions.push(result);
        yield { type: "action", action: { index, ...result } };
      }
      const total = state.actions.length;
      const failed = state.actions.filter((a) => !a.ok).length;
      return {
        message: failed === 0
          ? total === 0 ? "No action needed" : `Ran ${plural(total, "action")}`
          : `${failed} of ${plural(total, "action")} failed`,
        metadata: { actions: total, failed },
      };
    },
  },
  memory: {
    // deno-lint-ignore require-yield
    async *run({ input: { stores, project }, added, removed }) {
      const total = (await stores.memories.list(project.id)).length;
      return {
        message: `${added.length} saved, ${removed.length} forgotten; ${total} in memory`,
        details: [...added.map((m) => `+ ${m.text}`), ...removed.map((m) => `- ${m.text}`)].join("\n"),
        metadata: { added: added.length, removed: removed.length, total },
      };
    },
  },
  completion: {
    async *run(state) {
      const { engine, project, runId, stores, signal } = state.input;
      const { plan, actions, added, removed } = state;
      for await (
        const chunk of engine.answer(state.ctx!, state.analysis!, { plan, actions, added, removed })
      ) {
        if (chunk.kind === "token") {
          state.answer += chunk.delta;
          yield { type: "token", delta: chunk.delta };
        } else {
          yield progress("completion", "update", chunk.message, chunk.details, chunk.metadata);
        }
      }
      signal.throwIfAborted();
      const reply = await stores.messages.add(project.id, {
        role: "assistant",
        content: state.answer,
        runId,
      });
      state.replyId = reply.id;
      return {
        message: "Answer ready",
        metadata: { characters: state.answer.length, messageId: reply.id, ...usageOf(state.usage) },
      };
    },
  },
};

function since(started: number): number {
  return Number((performance.now() - started).toFixed(3));
}

function usageOf(usage: Usage): { usage?: Usage } {
  return usage.inputTokens + usage.outputTokens > 0 ? { usage } : {};
}

function resultOf(state: RunState): ChatResult {
  return {
    runId: state.input.runId,
    message: state.answer,
    plan: state.plan,
    actions: state.actions,
    memories: { added: state.added, removed: state.removed },
    steps: state.durations,
    engine: state.input.engine.name,
    ...usageOf(state.usage),
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
