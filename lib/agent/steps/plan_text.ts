/**
 * How a plan reads in the steps' details: one line per action (its tool and
 * arguments) with the engine's `why` under it, and the problems validation
 * found. Before validation a plan is whatever the engine returned, so it is
 * described without trusting it.
 *
 * @module
 */

import type { PlanAction } from "../../protocol.ts";
import type { PlanProblem } from "../tools.ts";

/** The longest `why` an action keeps, in characters. */
export const MAX_WHY_CHARS = 300;

/**
 * A plan as the planning, validation and execution steps show it.
 *
 * @example
 * ```ts
 * import { describePlan } from "./plan_text.ts";
 * console.log(describePlan([{ tool: "list_memories", args: {}, why: "You asked for everything." }]));
 * // 1. list_memories({})
 * //    Why: You asked for everything.
 * ```
 */
export function describePlan(plan: PlanAction[]): string {
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

/**
 * The problems of an invalid plan, one line each.
 *
 * @example
 * ```ts
 * import { describeProblems } from "./plan_text.ts";
 * console.log(describeProblems([{ index: 0, tool: "nope", message: 'Unknown tool "nope".' }])); // Action 1: Unknown tool "nope".
 * ```
 */
export function describeProblems(problems: PlanProblem[]): string {
  return problems.map((p) => `Action ${p.index + 1}: ${p.message}`).join("\n");
}

/**
 * An action with its `why` kept only when it is a sentence: trimmed, and cut
 * at {@linkcode MAX_WHY_CHARS}; anything else is dropped.
 *
 * @example
 * ```ts
 * import { withWhy } from "./plan_text.ts";
 * console.log(withWhy({ tool: "list_memories", args: {}, why: "  All of it. " }).why); // All of it.
 * console.log("why" in withWhy({ tool: "list_memories", args: {}, why: 42 as unknown as string })); // false
 * ```
 */
export function withWhy(action: PlanAction): PlanAction {
  if (!("why" in action)) return action;
  const { why, ...rest } = action;
  if (typeof why !== "string" || why.trim() === "") return rest;
  const text = why.trim();
  return { ...rest, why: text.length > MAX_WHY_CHARS ? `${text.slice(0, MAX_WHY_CHARS - 1)}…` : text };
}
