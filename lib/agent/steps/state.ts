/**
 * What the agent's steps share: the run's input and state, the shape of a
 * step handler, and the small helpers every step uses to speak (progress
 * events, an engine's notes, a step's error).
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
} from "../../protocol.ts";
import type { StepName } from "../../steps.ts";
import { isoNow } from "../../store/kv.ts";
import type { MemoryStore } from "../../store/memories.ts";
import type { Bounds } from "../../store/bounds.ts";
import type { OutputStore } from "../../store/outputs.ts";
import type { MessageStore } from "../../store/messages.ts";
import type { RecentContextReader } from "../../store/recent_context.ts";
import type { Analysis, Engine, EngineContext, EngineNote } from "../engine.ts";

/** The stores the agent reads and writes. */
export interface AgentStores {
  messages: MessageStore;
  memories: MemoryStore;
  /** Reads the context step's messages and memories with one check of KV; none: both are listed. */
  context?: Pick<RecentContextReader, "read">;
  /** Where tool outputs too large for their event are kept; none: never cut. */
  outputs?: OutputStore;
  /** Answer and tool output bounds; none: unbounded. */
  bounds?: Pick<Bounds, "maxAnswerChars" | "maxToolOutputChars" | "maxMemoryChars">;
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
  /**
   * Takes the run's reply (built, not yet saved). Left out, the reply is
   * added to the conversation at once; the run registry keeps it for the
   * commit that ends the run, so a reply exists exactly when its run
   * succeeded.
   */
  keepReply?: (reply: Message) => Promise<void>;
  /**
   * Called with the run's result just before its `result` event; the run
   * registry writes a result too large for one KV value here. Left out,
   * the result is only sent.
   */
  keepResult?: (result: ChatResult) => Promise<void>;
}

/**
 * Receives the agent's events, synchronously, the moment each happens.
 * Once the run's signal has aborted, the agent sends nothing more.
 */
export type AgentEmit = (event: AgentEvent) => void;

/** What the steps of one run share. */
export interface RunState {
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
  /** The answer reached LANTERN_MAX_ANSWER_CHARS and was cut there. */
  answerCut: boolean;
  replyId: string | null;
}

/** What a step says as it starts or ends. */
export interface StepWords {
  message?: string;
  details?: string;
  metadata?: Record<string, unknown>;
}

/**
 * One step: what it says as it starts (default: the step table's words), and
 * its work, which sends its events through `emit` as they happen.
 */
export interface StepHandler {
  opening?(state: RunState): StepWords;
  run(state: RunState, emit: AgentEmit): Promise<StepWords & { message: string }>;
}

/**
 * Thrown inside the agent to end the run with an `error` event.
 *
 * @example
 * ```ts
 * import { StepError } from "./state.ts";
 * console.log(new StepError("invalid_plan", "The plan is invalid.").code); // invalid_plan
 * ```
 */
export class StepError extends Error {
  /** Makes an error with a stable code and a sentence for the user. */
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * A progress event for a step.
 *
 * @example
 * ```ts
 * import { progress } from "./state.ts";
 * const event = progress("planning", "end", "Planned 1 action");
 * console.log(event.type, event.type === "progress" && event.progress.step); // progress planning
 * ```
 */
export function progress(
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
    timestamp: isoNow(),
    metadata,
  };
  return { type: "progress", progress: payload };
}

/**
 * Whether an error is the run's abort (the signal fired, or an `AbortError`).
 *
 * @example
 * ```ts
 * import { isAbort } from "./state.ts";
 * const controller = new AbortController();
 * console.log(isAbort(new Error("boom"), controller.signal)); // false
 * controller.abort();
 * console.log(isAbort(new Error("boom"), controller.signal)); // true
 * ```
 */
export function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted ||
    (error instanceof DOMException && error.name === "AbortError");
}

/**
 * Forwards an engine's notes as progress updates of a step and returns its result.
 *
 * @example
 * ```ts
 * import { notes } from "./state.ts";
 * import type { AgentEvent } from "../../protocol.ts";
 * async function* engineWork() {
 *   yield { kind: "note" as const, message: "Thinking it over" };
 *   return 42;
 * }
 * const sent: AgentEvent[] = [];
 * const result = await notes("analyzing", engineWork(), (event) => sent.push(event));
 * console.log(sent[0]?.type, result); // progress 42
 * ```
 */
export async function notes<T>(
  step: StepName,
  source: AsyncGenerator<EngineNote, T, void>,
  emit: AgentEmit,
): Promise<T> {
  while (true) {
    const next = await source.next();
    if (next.done) return next.value;
    emit(progress(step, "update", next.value.message, next.value.details, next.value.metadata));
  }
}

/**
 * Milliseconds since `started` (a `performance.now()` value), to the microsecond.
 *
 * @example
 * ```ts
 * import { since } from "./state.ts";
 * console.log(since(performance.now()) >= 0); // true
 * ```
 */
export function since(started: number): number {
  return Number((performance.now() - started).toFixed(3));
}

/**
 * The `usage` field of a result: present only when a model counted tokens.
 *
 * @example
 * ```ts
 * import { usageOf } from "./state.ts";
 * console.log(usageOf({ model: "local", inputTokens: 0, outputTokens: 0 })); // {}
 * ```
 */
export function usageOf(usage: Usage): { usage?: Usage } {
  return usage.inputTokens + usage.outputTokens > 0 ? { usage } : {};
}
