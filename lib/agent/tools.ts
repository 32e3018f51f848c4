/**
 * The tools a plan can use. Each has a name, a description, a zod schema for
 * its arguments (also given to language models as JSON Schema) and a `run`
 * that acts for real on the project's memories in KV.
 *
 * @module
 */

import { z } from "zod";
import type { Memory, PlanAction } from "../protocol.ts";
import { type Bounds, MEMORY_CHARS_CEILING } from "../store/bounds.ts";
import type { MemoryStore } from "../store/memories.ts";
import type { MessageStore } from "../store/messages.ts";
import type { OutputStore } from "../store/outputs.ts";
import { urls } from "../urls.ts";
import { cutToFit } from "./cut_output.ts";
import { rank } from "./words.ts";

/** What a tool can reach while it runs. */
export interface ToolContext {
  projectId: string;
  runId: string;
  memories: MemoryStore;
  messages: MessageStore;
  signal: AbortSignal;
  /** Where an output too large for its event is kept whole; without it, outputs are never cut. */
  outputs?: OutputStore;
  bounds?: Pick<Bounds, "maxToolOutputChars">;
  /** The action's place in the plan (names its kept output). */
  index?: number;
}

/** What a tool returns. */
export interface ToolOutput {
  summary: string;
  output: unknown;
  added?: Memory[];
  removed?: Memory[];
  /** Set when `output` was cut to `maxToolOutputChars`: the whole is at `fullUrl`. */
  truncated?: boolean;
  fullUrl?: string;
}

/** A tool: its name, what it does, its arguments' schema, and its effect. */
export interface Tool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolOutput>;
}

function tool<S extends z.ZodType>(t: Tool<S>): Tool<S> {
  return t;
}

const text = (max: number) => z.string().trim().min(1).max(max);

/**
 * The longest fact `save_memory`'s schema accepts, in characters: a ceiling
 * for models; the project's own bound (`LANTERN_MAX_MEMORY_CHARS`) is
 * checked by the memory store.
 */
export const MAX_MEMORY_CHARS = MEMORY_CHARS_CEILING;
/** The longest query `search_memories` and `delete_memory` accept, in characters. */
export const MAX_QUERY_CHARS = 500;

/** A fact's text reduced to what makes it the same fact: case, spacing, final stop. */
function sameFact(text: string): string {
  return text.normalize("NFC").toLowerCase().replace(/\s+/g, " ").replace(/(?<![\s.!])[\s.!]+$/, "").trim();
}

/** How many of the latest user messages `summarize_project` reports. */
const RECENT_REQUESTS = 3;

/**
 * The current memories that match a query, best first: ranked by BM25, kept
 * when they hold at least half of its words; `score` is that share.
 */
export async function searchMemories(
  ctx: ToolContext,
  query: string,
  limit = 5,
): Promise<{ memory: Memory; score: number }[]> {
  const all = await ctx.memories.list(ctx.projectId);
  return rank(query, all, (m) => m.text, limit).map((r) => ({ memory: r.item, score: r.coverage }));
}

/** Every tool, by name. */
export const TOOLS = {
  save_memory: tool({
    name: "save_memory",
    description: "Save one fact to the project's memory so later runs can use it.",
    schema: z.object({
      text: text(MAX_MEMORY_CHARS).describe("The fact to remember, as a sentence."),
      subject: z.string().trim().min(1).max(200).optional()
        .describe('What the fact is about, as a short key ("launch"), so a newer fact can replace it.'),
      replaces: z.array(z.string().min(1).max(64)).max(20).optional()
        .describe("Ids of current memories this fact replaces; they are kept as history."),
    }).strict(),
    async run(args, ctx) {
      ctx.signal.throwIfAborted();
      // Saying the same thing twice should not fill the memory with copies.
      const key = sameFact(args.text);
      const existing = (await ctx.memories.list(ctx.projectId)).find((m) => sameFact(m.text) === key);
      if (existing) return { summary: `Already remembered "${existing.text}".`, output: existing, added: [] };
      ctx.signal.throwIfAborted();
      const memory = await ctx.memories.add(ctx.projectId, {
        text: args.text,
        source: "agent",
        runId: ctx.runId,
        ...(args.subject ? { subject: args.subject } : {}),
      }, args.replaces ?? []);
      const { replaced, ...saved } = memory;
      return {
        summary: replaced
          ? `Saved "${saved.text}", replacing ${replaced.map((m) => `"${m.text}"`).join(", ")}.`
          : `Saved "${saved.text}".`,
        output: memory,
        added: [saved],
      };
    },
  }),
  search_memories: tool({
    name: "search_memories",
    description: "Find the project's current memories that best match a query (BM25 over stemmed words).",
    schema: z.object({ query: text(MAX_QUERY_CHARS).describe("Words to look for.") }).strict(),
    async run(args, ctx) {
      const found = await searchMemories(ctx, args.query);
      return {
        summary: found.length === 0
          ? `No memory matches "${args.query}".`
          : `Found ${found.length} ${found.length === 1 ? "memory" : "memories"}.`,
        output: found.map((f) => ({ ...f.memory, score: Number(f.score.toFixed(2)) })),
      };
    },
  }),
  delete_memory: tool({
    name: "delete_memory",
    description: "Forget the memories that best match a query (or one memory by id).",
    schema: z.object({
      query: text(MAX_QUERY_CHARS).optional().describe("Words of the memory to forget."),
      id: z.string().max(64).optional().describe("The id of the memory to forget."),
    }).strict().refine((a) => a.query !== undefined || a.id !== undefined, {
      message: "Give a query or an id.",
    }),
    async run(args, ctx) {
      ctx.signal.throwIfAborted();
      const removed: Memory[] = [];
      if (args.id !== undefined) {
        const memory = await ctx.memories.delete(ctx.projectId, args.id);
        if (memory) removed.push(memory);
      } else if (args.query !== undefined) {
        const found = await searchMemories(ctx, args.query);
        const best = found[0]?.score;
        for (const f of found.filter((f) => f.score === best)) {
          ctx.signal.throwIfAborted();
          const memory = await ctx.memories.delete(ctx.projectId, f.memory.id);
          if (memory) removed.push(memory);
        }
      }
      return {
        summary: removed.length === 0
          ? "Nothing matched, so nothing was forgotten."
          : `Forgot ${removed.map((m) => `"${m.text}"`).join(", ")}.`,
        output: removed,
        removed,
      };
    },
  }),
  list_memories: tool({
    name: "list_memories",
    description: "List everything the project remembers.",
    schema: z.object({}).strict(),
    async run(_args, ctx) {
      const all = await ctx.memories.list(ctx.projectId);
      return {
        summary: `The project has ${all.length} ${all.length === 1 ? "memory" : "memories"}.`,
        output: all,
      };
    },
  }),
  summarize_project: tool({
    name: "summarize_project",
    description: "Gather the project's memories and recent conversation for a summary.",
    schema: z.object({}).strict(),
    async run(_args, ctx) {
      const [memories, counts, latest] = await Promise.all([
        ctx.memories.list(ctx.projectId),
        ctx.messages.count(ctx.projectId),
        ctx.messages.list(ctx.projectId, 4 * RECENT_REQUESTS + 2),
      ]);
      // What the user asked before this run, newest last.
      const recent = latest
        .filter((m) => m.role === "user" && m.runId !== ctx.runId)
        .slice(-RECENT_REQUESTS)
        .map((m) => m.content);
      return {
        summary: `${memories.length} ${memories.length === 1 ? "memory" : "memories"} and ${counts.total} ${
          counts.total === 1 ? "message" : "messages"
        } gathered.`,
        output: { memories, messageCount: counts.total, userMessages: counts.user, recent },
      };
    },
  }),
} as const satisfies Record<string, Tool<z.ZodType>>;

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
