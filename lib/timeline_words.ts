/**
 * What the page says of a run: the steps' names, what a screen reader hears,
 * what to do after an error, durations, and step details without a reason
 * said twice. Pure, so the island, the server-rendered page and the tests
 * share it; the timeline itself (events folded into steps) is
 * `lib/timeline.ts`.
 *
 * @module
 */

import type { RunEvent } from "./protocol.ts";
import { STEP_TABLE, type StepName, STEPS } from "./steps.ts";

/**
 * Human names of the steps (from the step table).
 *
 * @example
 * ```ts
 * import { STEP_LABELS } from "./timeline_words.ts";
 * console.log(STEP_LABELS.planning); // Planning
 * ```
 */
export const STEP_LABELS: Readonly<Record<StepName, string>> = Object.fromEntries(
  STEPS.map((step) => [step, STEP_TABLE[step].label]),
) as Record<StepName, string>;

/**
 * What a screen reader hears for one event, or `null` for events that are
 * not announced: each step once when it starts, and how the run ended.
 * Tokens are not announced, the answer is read when it is complete.
 *
 * @example
 * ```ts
 * import { announcementFor } from "./timeline_words.ts";
 * const line = announcementFor({
 *   type: "progress", runId: "r1", seq: 3, ts: 5,
 *   progress: { step: "analyzing", phase: "start", message: "Reading", details: "", timestamp: "", metadata: {} },
 * });
 * console.log(line); // Step 3 of 8, Analyzing: Reading
 * ```
 */
export function announcementFor(event: RunEvent): string | null {
  switch (event.type) {
    case "progress": {
      const p = event.progress;
      if (p.phase !== "start") return null;
      const index = STEPS.indexOf(p.step) + 1;
      return `Step ${index} of ${STEPS.length}, ${STEP_LABELS[p.step]}${p.message ? `: ${p.message}` : ""}`;
    }
    case "result":
      return "Answer ready.";
    case "error":
      return `The run failed: ${explainError(event.error)}`;
    case "cancelled":
      return "Stopped.";
    default:
      return null;
  }
}

/**
 * What the person can do after a run ends with error `code`: one sentence.
 *
 * @example
 * ```ts
 * import { nextStepHint } from "./timeline_words.ts";
 * console.log(nextStepHint("interrupted")); // Send your message again.
 * ```
 */
export function nextStepHint(code: string): string {
  if (code === "interrupted") return "Send your message again.";
  if (code === "lost") return "Reload the page to see where it stands.";
  if (code === "invalid_plan") return "Rephrase your message and send it again.";
  if (code === "cancelled") return "Send a new message when you are ready.";
  if (code === "model_auth") return "Check OPENAI_API_KEY on the server, then send your message again.";
  if (code === "model_not_found") return "Check LANTERN_MODEL on the server, then send your message again.";
  if (code === "model_rate_limited") return "Wait a minute, then send your message again.";
  if (code.startsWith("model_")) return "The model did not answer; try again in a moment.";
  return "Try again; if it keeps failing, check the server's log.";
}

/**
 * An error's message followed by what to do next, unless the message says
 * it already.
 *
 * @example
 * ```ts
 * import { explainError } from "./timeline_words.ts";
 * console.log(explainError({ code: "invalid_plan", message: "The plan names no tool." }));
 * // The plan names no tool. Rephrase your message and send it again.
 * ```
 */
export function explainError(error: { code: string; message: string }): string {
  const hint = nextStepHint(error.code);
  return mentionsHint(error.message, hint) ? error.message : `${error.message} ${hint}`;
}

/** Whether `message` already tells the person what `hint` says. */
export function mentionsHint(message: string, hint: string): boolean {
  const words = (text: string) => text.toLowerCase().replace(/[^a-z0-9 ]/g, "");
  return words(message).includes(words(hint));
}

/**
 * A duration for people: `850 ms`, `1.6 s`, `2 min 5 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./timeline_words.ts";
 * console.log(formatDuration(1640)); // 1.6 s
 * ```
 */
export function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** How a plan's details give an action's reason (see `describePlan`): on the lines after the action. */
const REASON = "\n   Why: ";

/** A plan's details, one piece per action: `1. tool(args)`, then its reason (which may run over lines). */
const actionsOf = (details: string) => details.split(/\n(?=\d+\. )/);

/** The reason of one action's piece, with its marker ("" when it gives none). */
function reasonOf(action: string): string {
  const at = action.indexOf(REASON);
  return at < 0 ? "" : action.slice(at);
}

/**
 * A step's details without the reasons the `earlier` steps' details already
 * gave: planning says why each action was chosen; validation and execution
 * list the same actions without saying it again. A new plan's reasons (made
 * at validation) still show once.
 *
 * @example
 * ```ts
 * import { withoutRepeatedReasons } from "./timeline_words.ts";
 * const planned = "1. list_memories({})\n   Why: You asked for everything.";
 * console.log(withoutRepeatedReasons(planned, [planned])); // 1. list_memories({})
 * console.log(withoutRepeatedReasons(planned, []) === planned); // true
 * ```
 */
export function withoutRepeatedReasons(details: string, earlier: string[]): string {
  const said = new Set(earlier.flatMap(actionsOf).map(reasonOf));
  return actionsOf(details).map((action) => {
    const reason = reasonOf(action);
    return reason && said.has(reason) ? action.slice(0, -reason.length) : action;
  }).join("\n");
}
