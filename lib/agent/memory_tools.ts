/**
 * The tools themselves: each one's name, what it does, the schema of its
 * arguments (also given to language models as JSON Schema) and a `run` that
 * acts for real on the project's memories and reads its conversation in KV.
 * The table a plan is checked against and run from is `tools.ts`.
 *
 * @module
 */

import { z } from "zod";
import { plural } from "../plural.ts";
import type { Memory } from "../protocol.ts";
import { type Bounds, MEMORY_CHARS_CEILING } from "../store/bounds.ts";
import type { MemoryStore } from "../store/memories.ts";
import type { MessageStore } from "../store/messages.ts";
import type { OutputStore } from "../store/outputs.ts";
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
 *
 * @example
 * ```ts ignore
 * const found = await searchMemories(ctx, "launch date");
 * console.log(found[0]?.memory.text); // The launch is on May 3
 * ```
 */
export async function searchMemories(
  ctx: ToolContext,
  query: string,
  limit = 5,
): Promise<{ memory: Memory; score: number }[]> {
  const all = await ctx.memories.list(ctx.projectId);
  return rank(query, all, (m) => m.text, limit).map((r) => ({ memory: r.item, score: r.coverage }));
}

/**
 * Every memory tool, by name (they are all the tools a plan can use today).
 *
 * @example
 * ```ts
 * import { MEMORY_TOOLS } from "./memory_tools.ts";
 * console.log(MEMORY_TOOLS.search_memories.schema.safeParse({ query: "" }).success); // false
 * ```
 */
export const MEMORY_TOOLS = {
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
          : `Found ${plural(found.length, "memory", "memories")}.`,
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
        summary: `The project has ${plural(all.length, "memory", "memories")}.`,
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
        summary: `${plural(memories.length, "memory", "memories")} and ${
          plural(counts.total, "message")
        } gathered.`,
        output: { memories, messageCount: counts.total, userMessages: counts.user, recent },
      };
    },
  }),
} as const satisfies Record<string, Tool<z.ZodType>>;
