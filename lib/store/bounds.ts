/**
 * The bounds on what a project can hold and a run can produce, with the
 * error a client meets past each one. Each has a setting (lib/config.ts).
 *
 * @example
 * ```ts
 * import { DEFAULT_BOUNDS, BoundExceeded } from "./bounds.ts";
 * console.log(DEFAULT_BOUNDS.maxMemories, DEFAULT_BOUNDS.maxMemoryChars); // 10000 4000
 * console.log(new BoundExceeded("memory_too_long", "Too long.").code); // memory_too_long
 * ```
 *
 * @module
 */

import { DomainError } from "../runs/errors.ts";

/** The longest memory any setting allows, in characters: a memory is one KV value. */
export const MEMORY_CHARS_CEILING = 16_000;

/** What a project may hold and a run may produce; 0 turns a bound off. */
export interface Bounds {
  /** Current memories a project may hold (superseded ones do not count). */
  maxMemories: number;
  /** The longest memory, in characters. */
  maxMemoryChars: number;
  /** The longest answer a run may give, in characters; a longer one is cut there and marked `truncated`. */
  maxAnswerChars: number;
  /** The largest tool output an `action` event carries whole, in characters of JSON; a larger one is cut. */
  maxToolOutputChars: number;
  /** How long a run may take, in ms; a run past it ends with `run_timeout`. */
  maxRunMs: number;
}

/** The defaults of {@linkcode Bounds}. */
export const DEFAULT_BOUNDS: Bounds = {
  maxMemories: 10_000,
  maxMemoryChars: 4_000,
  maxAnswerChars: 256 * 1024,
  maxToolOutputChars: 64 * 1024,
  maxRunMs: 10 * 60 * 1000,
};

/** A write refused because it would cross a bound: a 4xx at the edge, an `error` event in a run. */
export class BoundExceeded extends DomainError {
  /** An error with its code (`memory_too_long`, `too_many_memories`) and a sentence. */
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "BoundExceeded";
  }
}

/**
 * Checks a memory's text against {@linkcode Bounds.maxMemoryChars}.
 *
 * @example
 * ```ts
 * import { checkMemoryText } from "./bounds.ts";
 * try {
 *   checkMemoryText("x".repeat(11), { maxMemoryChars: 10 });
 * } catch (error) {
 *   console.log((error as Error).message); // The memory is 11 characters long; the most is 10 (LANTERN_MAX_MEMORY_CHARS).
 * }
 * ```
 */
export function checkMemoryText(text: string, bounds: Pick<Bounds, "maxMemoryChars">): void {
  if (bounds.maxMemoryChars > 0 && text.length > bounds.maxMemoryChars) {
    throw new BoundExceeded(
      "memory_too_long",
      `The memory is ${text.length} characters long; the most is ${bounds.maxMemoryChars} (LANTERN_MAX_MEMORY_CHARS).`,
    );
  }
}

/**
 * Checks that a project holding `current` memories may take one more that
 * replaces `replacing` of them.
 *
 * @example
 * ```ts
 * import { checkMemoryCount } from "./bounds.ts";
 * checkMemoryCount(9, 0, { maxMemories: 10 }); // fine
 * checkMemoryCount(10, 1, { maxMemories: 10 }); // fine: one replaced
 * try {
 *   checkMemoryCount(10, 0, { maxMemories: 10 });
 * } catch (error) {
 *   console.log((error as Error).name); // BoundExceeded
 * }
 * ```
 */
export function checkMemoryCount(
  current: number,
  replacing: number,
  bounds: Pick<Bounds, "maxMemories">,
): void {
  if (bounds.maxMemories > 0 && current - replacing + 1 > bounds.maxMemories) {
    throw new BoundExceeded(
      "too_many_memories",
      `The project already holds ${current} memories, the most it can (LANTERN_MAX_MEMORIES is ${bounds.maxMemories}). ` +
        "Forget some before adding more.",
    );
  }
}

/**
 * Cuts the next piece of an answer so the answer stays within `max`
 * characters (0: no bound), without splitting a surrogate pair. `cut` says
 * the piece did not fit whole, so the engine is to be stopped.
 *
 * @example
 * ```ts
 * import { fitAnswer } from "./bounds.ts";
 * console.log(fitAnswer("abc", "defg", 5)); // { delta: "de", cut: true }
 * console.log(fitAnswer("abc", "de", 5)); // { delta: "de", cut: false }
 * ```
 */
export function fitAnswer(answer: string, delta: string, max: number): { delta: string; cut: boolean } {
  if (max <= 0 || answer.length + delta.length <= max) return { delta, cut: false };
  let kept = delta.slice(0, Math.max(0, max - answer.length));
  const last = kept.charCodeAt(kept.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept = kept.slice(0, -1);
  return { delta: kept, cut: true };
}

/**
 * The sentence added after an answer cut at `max` characters: what the page,
 * the API and a replay show under the kept part.
 *
 * @example
 * ```ts
 * import { answerCutNotice } from "./bounds.ts";
 * console.log(answerCutNotice(3000)); // The answer was cut at 3,000 characters, the most a run may give (LANTERN_MAX_ANSWER_CHARS).
 * ```
 */
export function answerCutNotice(max: number): string {
  return `The answer was cut at ${max.toLocaleString("en-US")} characters, the most a run may give ` +
    "(LANTERN_MAX_ANSWER_CHARS).";
}
