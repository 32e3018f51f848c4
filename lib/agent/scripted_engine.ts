/**
 * The `scripted` engine: a benchmark engine. It parses nothing, calls no
 * model, waits for nothing and plans no tool action, so a run costs only
 * Lantern's own machinery (the agent's eight steps, the run registry, the KV
 * log, the wire). It words every answer as the same fixed number of tokens,
 * so a Lantern run and a benchmark peer's run carry the same events:
 * 16 progress events (each step's start and end), {@linkcode SCRIPTED_TOKENS}
 * tokens, one result.
 *
 * Select it with `LANTERN_ENGINE=scripted`; it is meant for `deno task bench`,
 * not for people.
 *
 * @module
 */

import type { PlanAction } from "../protocol.ts";
import type { Analysis, Engine, EngineContext, EngineNote, EngineToken, Outcome } from "./engine.ts";

/** Tokens in every scripted answer (the benchmark peer sends as many text deltas). */
export const SCRIPTED_TOKENS = 75;

const WORDS = [
  "Lantern",
  "keeps",
  "every",
  "step",
  "of",
  "this",
  "run",
  "in",
  "its",
  "log",
  "so",
  "a",
  "reader",
  "can",
  "resume.",
];

/**
 * The answer's tokens: {@linkcode SCRIPTED_TOKENS} words, each with its
 * trailing space, built once so a run allocates none of them.
 */
export const SCRIPTED_ANSWER: readonly string[] = Object.freeze(
  Array.from({ length: SCRIPTED_TOKENS }, (_, i) => `${WORDS[i % WORDS.length]} `),
);

const ANALYSIS: Analysis = Object.freeze({
  intent: "scripted",
  summary: "A scripted benchmark run.",
}) as Analysis;

/**
 * An engine that answers every message with the same scripted tokens and no
 * tool action.
 *
 * @example
 * ```ts
 * import { ScriptedEngine, SCRIPTED_TOKENS } from "./scripted_engine.ts";
 * const engine = new ScriptedEngine();
 * const ctx = {
 *   runId: "r1",
 *   project: { id: "p1", name: "Demo", createdAt: "" },
 *   message: "hi",
 *   history: [],
 *   memories: [],
 *   signal: new AbortController().signal,
 *   usage: { model: "scripted", inputTokens: 0, outputTokens: 0 },
 * };
 * const analysis = { intent: "scripted", summary: "" };
 * const outcome = { plan: [], actions: [], added: [], removed: [] };
 * let tokens = 0;
 * for await (const chunk of engine.answer(ctx, analysis, outcome)) if (chunk.kind === "token") tokens++;
 * console.log(tokens === SCRIPTED_TOKENS); // true
 * ```
 */
export class ScriptedEngine implements Engine {
  readonly name = "scripted";
  readonly model = "scripted";
  readonly replansInvalid = false;

  // The interface's steps are generators so engines can report as they go;
  // this one has nothing to report.
  // deno-lint-ignore require-yield
  async *analyze(_ctx: EngineContext): AsyncGenerator<EngineNote, Analysis, void> {
    return ANALYSIS;
  }

  // deno-lint-ignore require-yield
  async *plan(_ctx: EngineContext, _analysis: Analysis): AsyncGenerator<EngineNote, PlanAction[], void> {
    return [];
  }

  async *answer(
    _ctx: EngineContext,
    _analysis: Analysis,
    _outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    for (const delta of SCRIPTED_ANSWER) yield { kind: "token", delta };
  }
}
