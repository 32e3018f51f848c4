/**
 * The interface every engine implements. The agent's eight steps call it; an
 * engine never sees HTTP, KV keys or the wire format, so a new engine (a
 * language model, say) plugs in without touching the steps.
 *
 * Each method is an async generator: what it yields reaches the client at
 * once as a progress update (or, from `answer`, as a token), and what it
 * returns is the step's result.
 *
 * @module
 */

import type { ActionResult, Memory, Message, PlanAction, Project, StepName, Usage } from "../protocol.ts";
import type { PlanProblem } from "./tools.ts";

/** What an engine knows about the run it serves. */
export interface EngineContext {
  runId: string;
  project: Project;
  /** The user's message this run answers. */
  message: string;
  /** The conversation before this message, oldest first. */
  history: Message[];
  /** The project's memories when the run started. */
  memories: Memory[];
  signal: AbortSignal;
  /** Token counts; model-backed engines add to it. */
  usage: Usage;
  /** The longest fact the project keeps (`LANTERN_MAX_MEMORY_CHARS`); the default bound when absent. */
  maxMemoryChars?: number;
}

/** The analyzing step's result. */
export interface Analysis {
  /** A short name for what the user wants, such as `remember`. */
  intent: string;
  /** One sentence about it, for the timeline. */
  summary: string;
  metadata?: Record<string, unknown>;
}

/** What execution did, given to `answer`. */
export interface Outcome {
  plan: PlanAction[];
  actions: ActionResult[];
  added: Memory[];
  removed: Memory[];
}

/** Something an engine reports while it works (a retry, a partial result). */
export interface EngineNote {
  kind: "note";
  message: string;
  details?: string;
  metadata?: Record<string, unknown>;
}

/** A piece of the answer. */
export interface EngineToken {
  kind: "token";
  delta: string;
}

/** An engine's way to fail with a code the user can act on. */
export class EngineError extends Error {
  /** A stable code, such as `model_timeout`. */
  readonly code: string;

  /** Makes an error with a code and a sentence for the user. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EngineError";
    this.code = code;
  }
}

/** An engine: the part of the agent that decides and words things. */
export interface Engine {
  /** `local`, `openai`… */
  readonly name: string;
  /** The model that answers, or the engine's name when there is none. */
  readonly model: string;
  /** Whether an invalid plan is given back once to `plan` with its problems. */
  readonly replansInvalid: boolean;
  /** Called as each step starts; an engine may take its time here. */
  pace?(step: StepName, signal: AbortSignal): Promise<void>;
  /** Works out what the user wants. */
  analyze(ctx: EngineContext): AsyncGenerator<EngineNote, Analysis, void>;
  /** Turns it into tool actions; `problems` is set on a second try. */
  plan(
    ctx: EngineContext,
    analysis: Analysis,
    problems?: PlanProblem[],
  ): AsyncGenerator<EngineNote, PlanAction[], void>;
  /** Words the answer, token by token. */
  answer(
    ctx: EngineContext,
    analysis: Analysis,
    outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void>;
}
