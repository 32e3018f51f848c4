/**
 * The tools a plan can use, as one table: checking a plan against it (a
 * known tool, arguments its schema accepts) and running one checked action,
 * whose output is cut to its bound and kept whole aside. What each tool does
 * is `memory_tools.ts`.
 *
 * @module
 */

import type { z } from "zod";
import type { PlanAction } from "../protocol.ts";
import { urls } from "../urls.ts";
import { cutToFit } from "./cut_output.ts";
import { MEMORY_TOOLS, type Tool, type ToolContext, type ToolOutput } from "./memory_tools.ts";

// Engines read the limits of the tools' arguments with the table.
export { MAX_QUERY_CHARS } from "./memory_tools.ts";

/**
 * Every tool a plan can use, by name.
 *
 * @example
 * ```ts
 * import { TOOLS } from "./tools.ts";
 * console.log(Object.keys(TOOLS).includes("save_memory")); // true
 * ```
 */
export const TOOLS = MEMORY_TOOLS;

/** The name of a known tool. */
export type ToolName = keyof typeof TOOLS;

/** A problem with one action of a plan. */
export interface PlanProblem {
  index: number;
  tool: string;
  message: string;
}

/**
 * Checks every action of a plan: a known tool, arguments its schema accepts.
 * Returns the actions with parsed arguments, or every problem found.
 *
 * @example
 * ```ts
 * import { validatePlan } from "./tools.ts";
 * const bad = validatePlan([{ tool: "launch_rocket", args: {} }]);
 * console.log(bad.ok ? "ok" : bad.problems[0]?.message); // Unknown tool "launch_rocket".
 * ```
 */
export function validatePlan(
  plan: PlanAction[],
): { ok: true; plan: PlanAction[] } | { ok: false; problems: PlanProblem[] } {
  // An engine's plan is checked, not trusted: it may not even be a list.
  if (!Array.isArray(plan)) {
    return {
      ok: false,
      problems: [{ index: 0, tool: "", message: `A plan must be a list of actions, got ${describe(plan)}.` }],
    };
  }
  const problems: PlanProblem[] = [];
  const parsed: PlanAction[] = [];
  plan.forEach((action: unknown, index) => {
    if (typeof action !== "object" || action === null || typeof (action as PlanAction).tool !== "string") {
      problems.push({
        index,
        tool: "",
        message: `Action ${index + 1} must name a tool, got ${describe(action)}.`,
      });
      return;
    }
    return check(action as PlanAction, index);
  });
  return problems.length ? { ok: false, problems } : { ok: true, plan: parsed };

  function check(action: PlanAction, index: number): void {
    const known = Object.hasOwn(TOOLS, action.tool) ? TOOLS[action.tool as ToolName] : null;
    if (!known) {
      problems.push({ index, tool: action.tool, message: `Unknown tool "${action.tool}".` });
      return;
    }
    const result = known.schema.safeParse(action.args);
    if (!result.success) {
      const detail = result.error.issues
        .map((i) => (i.path.length ? `${i.path.join(".")}: ` : "") + i.message)
        .join("; ");
      problems.push({
        index,
        tool: action.tool,
        message: `Invalid arguments for "${action.tool}": ${detail}.`,
      });
      return;
    }
    parsed.push({ ...action, args: result.data as Record<string, unknown> });
  }
}

/** A short description of an unexpected value, for a problem's message. */
function describe(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > 60 ? `${json.slice(0, 59)}…` : json;
}

/**
 * Runs one validated action. An output whose JSON is longer than
 * `maxToolOutputChars` is kept whole in `ctx.outputs` and comes back cut to
 * that size (same shape, fewer items), with `truncated` and `fullUrl`.
 */
export async function runTool(action: PlanAction, ctx: ToolContext): Promise<ToolOutput> {
  const t = TOOLS[action.tool as ToolName] as Tool<z.ZodType>;
  const out = await t.run(action.args, ctx);
  const max = ctx.bounds?.maxToolOutputChars ?? 0;
  if (!ctx.outputs || max <= 0 || ctx.index === undefined) return out;
  const json = JSON.stringify(out.output) ?? "null";
  if (json.length <= max) return out;
  await ctx.outputs.save(ctx.projectId, ctx.runId, ctx.index, json);
  return {
    ...out,
    output: cutToFit(out.output, max) ?? null,
    truncated: true,
    fullUrl: urls.actionOutput(ctx.projectId, ctx.runId, ctx.index),
  };
}
