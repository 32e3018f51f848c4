/**
 * The planning-first agent: eight steps, always in order, each announced
 * when it starts and when it ends. {@linkcode runAgent} is the one entry
 * point; it sends each event the moment it happens and never batches them.
 * The work of each step is in steps/handlers.ts, what the steps share in
 * steps/state.ts, and how a plan reads in steps/plan_text.ts.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { ChatResult } from "../protocol.ts";
import { STEP_TABLE, type StepName, STEPS } from "../steps.ts";
import { EngineError } from "./engine.ts";
import { HANDLERS } from "./steps/handlers.ts";
import {
  type AgentEmit,
  type AgentInput,
  isAbort,
  progress,
  type RunState,
  StepError,
  usageOf,
} from "./steps/state.ts";

export { HISTORY_LIMIT } from "./steps/handlers.ts";
export { MAX_WHY_CHARS } from "./steps/plan_text.ts";
export type { AgentEmit, AgentInput, AgentStores } from "./steps/state.ts";

/**
 * Runs the agent for one message, handing each event to `emit` as it
 * happens: progress for each step's start and end (in the order of
 * lib/steps.ts), an `action` for each tool action, the answer's tokens, then
 * one `result`, or an `error` naming the step that failed. Resolves once the
 * run's last event is sent.
 *
 * Events go to `emit` synchronously from the agent's own work: no promise or
 * iterator step per event. Once the signal aborts, nothing more is sent: the
 * agent stops at its next event or await and the promise rejects with the
 * abort; the caller reports that. Each step's work begins at a fresh turn of
 * the event loop, just after its `start` event is sent: runs started
 * together share the server step by step, however fast their engine.
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
 * const signal = new AbortController().signal;
 * await runAgent({ runId: "r1", project, userMessage, stores, engine: new LocalEngine(), signal }, (event) => {
 *   if (event.type === "result") console.log(event.result.message);
 * });
 * kv.close();
 * ```
 */
export async function runAgent(input: AgentInput, emit: AgentEmit): Promise<void> {
  const { engine, signal } = input;
  const send: AgentEmit = (event) => {
    signal.throwIfAborted();
    emit(event);
  };
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
    answerCut: false,
    replyId: null,
  };
  let current: StepName = STEPS[0];
  try {
    for (const name of STEPS) {
      current = name;
      const handler = HANDLERS[name];
      const started = performance.now();
      const opening = handler.opening?.(state) ?? {};
      send(
        progress(
          name,
          "start",
          opening.message ?? STEP_TABLE[name].starting,
          opening.details,
          opening.metadata,
        ),
      );
      await engine.pace?.(name, signal);
      // The step's work begins at the event loop's next turn: runs started together take turns step
      // by step, and a new request is not held up behind another run's whole answer.
      await nextTurn();
      const ending = await handler.run(state, send);
      const durationMs = Number((performance.now() - started).toFixed(3));
      state.durations.push({ step: name, durationMs });
      send(progress(name, "end", ending.message, ending.details, { ...ending.metadata, durationMs }));
    }
    const result = resultOf(state);
    await input.keepResult?.(result);
    send({ type: "result", result });
  } catch (error) {
    if (isAbort(error, signal)) throw error;
    if (error instanceof StepError || error instanceof EngineError) {
      send({ type: "error", error: { code: error.code, message: error.message, step: current } });
      return;
    }
    console.error(`Run ${input.runId} failed in step "${current}":`, error);
    send({
      type: "error",
      error: {
        code: "internal_error",
        message: `The ${current} step failed unexpectedly. Please try again.`,
        step: current,
      },
    });
  }
}

/** Resolves at the event loop's next turn, once pending I/O has been seen to (a new request, a commit). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
    ...(state.answerCut ? { truncated: true as const } : {}),
    ...usageOf(state.usage),
  };
}
