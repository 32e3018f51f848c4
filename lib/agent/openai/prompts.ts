/**
 * What the OpenAI engine sends: Lantern's tools as JSON Schema, the system
 * prompts for planning and answering (with the project's memories), the
 * conversation, a replan request that answers each bad tool call with its
 * problems, and the tool results for the answer.
 *
 * @module
 */

import type OpenAI from "openai";
import { z } from "zod";
import type { ActionResult, Memory } from "../../protocol.ts";
import type { EngineContext, Outcome } from "../engine.ts";
import { type PlanProblem, TOOLS } from "../tools.ts";

/** One message of a chat completion request. */
export type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
/** A tool as the model sees it. */
export type ChatTool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
/** A tool call the model made. */
export type ToolCall = OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;

/** Tool output beyond this many characters is cut before it reaches the model. */
const MAX_TOOL_OUTPUT_CHARS = 8_000;

let definitions: ChatTool[] | undefined;

/**
 * The argument every tool call carries for the person watching: why the
 * model makes the call. It is taken out of the arguments before the tool
 * sees them and shown as the action's `why` (see `toAction` in stream.ts).
 *
 * @example
 * ```ts
 * import { toolDefinitions, WHY_ARGUMENT } from "./prompts.ts";
 * console.log(toolDefinitions().every((t) => (t.function.parameters?.required as string[]).includes(WHY_ARGUMENT))); // true
 * ```
 */
export const WHY_ARGUMENT = "why";

/** The `why` argument's JSON Schema. */
const WHY_SCHEMA = {
  type: "string",
  minLength: 1,
  maxLength: 300,
  description:
    "Why you make this call, in one short sentence for the user: the words of their message that ask for it.",
};

/**
 * Lantern's tools as the model sees them, their schemas as JSON Schema (built
 * once), each with a required `why` argument the model fills.
 *
 * @example
 * ```ts
 * import { toolDefinitions } from "./prompts.ts";
 * const save = toolDefinitions().find((t) => t.function.name === "save_memory")!;
 * console.log(save.function.parameters?.required); // ["text", "why"]
 * ```
 */
export function toolDefinitions(): ChatTool[] {
  definitions ??= Object.values(TOOLS).map((tool) => {
    const { $schema: _, properties, required, ...rest } = z.toJSONSchema(tool.schema) as Record<
      string,
      unknown
    >;
    const parameters = {
      ...rest,
      type: "object",
      properties: { ...(properties as Record<string, unknown> | undefined), [WHY_ARGUMENT]: WHY_SCHEMA },
      required: [...(Array.isArray(required) ? required : []), WHY_ARGUMENT],
    };
    return {
      type: "function",
      function: { name: tool.name, description: tool.description, parameters },
    };
  });
  return definitions;
}

/**
 * The planner's system prompt: what Lantern is, what the tools are for, and the memories.
 *
 * @example
 * ```ts
 * import { plannerPrompt } from "./prompts.ts";
 * const ctx = {
 *   runId: "r1", project: { id: "p1", name: "Launch", createdAt: "" }, message: "When is the launch?",
 *   history: [], memories: [{ id: "m1", text: "The launch is on May 3", source: "user" as const, createdAt: "" }],
 *   signal: new AbortController().signal, usage: { model: "m", inputTokens: 0, outputTokens: 0 },
 * };
 * console.log(plannerPrompt(ctx).includes("- m1: The launch is on May 3")); // true
 * ```
 */
export function plannerPrompt(ctx: EngineContext): string {
  return [
    `You are Lantern's planner. Lantern keeps a memory of facts for the project "${ctx.project.name}".`,
    "Use the tools to act on the project's memory for the user's latest message: save what the user asks to remember, search or list memories to answer questions, delete what the user asks to forget, summarize the project when asked.",
    "Only call tools now; the answer is written later, from what the tools return. Call no tool when none is needed.",
    `Give every call a "${WHY_ARGUMENT}": one short sentence for the user naming the words of their message that ask for it.`,
    "",
    memoryList(ctx.memories),
  ].join("\n");
}

/**
 * The answer's system prompt, with the memories as they are after the tools ran.
 *
 * @example
 * ```ts
 * import { answerPrompt } from "./prompts.ts";
 * const ctx = {
 *   runId: "r1", project: { id: "p1", name: "Launch", createdAt: "" }, message: "When is the launch?",
 *   history: [], memories: [{ id: "m1", text: "The launch is on May 3", source: "user" as const, createdAt: "" }],
 *   signal: new AbortController().signal, usage: { model: "m", inputTokens: 0, outputTokens: 0 },
 * };
 * const outcome = { plan: [], actions: [], added: [], removed: ctx.memories };
 * console.log(answerPrompt(ctx, outcome).includes("The project's memory is empty.")); // true
 * ```
 */
export function answerPrompt(ctx: EngineContext, outcome: Outcome): string {
  const removed = new Set(outcome.removed.map((m) => m.id));
  const memories = [
    ...ctx.memories.filter((m) => !removed.has(m.id)),
    ...outcome.added,
  ];
  return [
    `You are Lantern, an assistant that keeps a memory of facts for the project "${ctx.project.name}".`,
    "Answer the user's latest message briefly, in Markdown, from the project's memories and the results of the tools that ran for it.",
    "Say only what the tool results show was done; do not claim to have saved or forgotten anything else.",
    "",
    memoryList(memories),
  ].join("\n");
}

function memoryList(memories: Memory[]): string {
  if (memories.length === 0) return "The project's memory is empty.";
  return [
    "The project's memories (id: text):",
    ...memories.map((m) => `- ${m.id}: ${m.text}`),
  ].join("\n");
}

/**
 * The conversation so far and the user's message, content only.
 *
 * @example
 * ```ts
 * import { conversation } from "./prompts.ts";
 * const ctx = {
 *   runId: "r1", project: { id: "p1", name: "Launch", createdAt: "" }, message: "When is the launch?",
 *   history: [], memories: [{ id: "m1", text: "The launch is on May 3", source: "user" as const, createdAt: "" }],
 *   signal: new AbortController().signal, usage: { model: "m", inputTokens: 0, outputTokens: 0 },
 * };
 * console.log(conversation(ctx)); // [{ role: "user", content: "When is the launch?" }]
 * ```
 */
export function conversation(ctx: EngineContext): ChatMessage[] {
  return [
    ...ctx.history
      .filter((m) => m.content.trim() !== "")
      .map((m): ChatMessage => ({ role: m.role, content: m.content })),
    { role: "user", content: ctx.message },
  ];
}

/**
 * The model's previous tool calls, answered by what was wrong with each, and
 * a request to fix them. APIs require every tool call to get a tool message.
 *
 * @example
 * ```ts
 * import { replanMessages } from "./prompts.ts";
 * const calls = [{ id: "c1", type: "function" as const, function: { name: "nope", arguments: "{}" } }];
 * const messages = replanMessages(calls, [{ index: 0, tool: "nope", message: 'Unknown tool "nope".' }]);
 * console.log(messages.map((m) => m.role)); // ["assistant", "tool", "user"]
 * ```
 */
export function replanMessages(
  calls: ToolCall[] | undefined,
  problems: PlanProblem[],
): ChatMessage[] {
  const list = problems.map((p) => `- Action ${p.index + 1} ("${p.tool}"): ${p.message}`);
  const fix: ChatMessage = {
    role: "user",
    content: [
      "Your tool calls had problems, so none of them ran:",
      ...list,
      "Call the tools again with every problem fixed.",
    ].join("\n"),
  };
  if (!calls?.length) return [fix];
  return [
    { role: "assistant", content: null, tool_calls: calls },
    ...calls.map((call, index): ChatMessage => ({
      role: "tool",
      tool_call_id: call.id,
      content: problems.filter((p) => p.index === index).map((p) => p.message).join(
        " ",
      ) ||
        "Not run, because another action of the plan was invalid.",
    })),
    fix,
  ];
}

/**
 * The tool calls that ran and their results, as the model expects them.
 *
 * @example
 * ```ts
 * import { toolResultMessages } from "./prompts.ts";
 * const ran = [{ tool: "list_memories", args: {}, ok: true, summary: "0 memories", output: [], durationMs: 1 }];
 * console.log(toolResultMessages(ran).map((m) => m.role)); // ["assistant", "tool"]
 * ```
 */
export function toolResultMessages(actions: ActionResult[]): ChatMessage[] {
  if (actions.length === 0) return [];
  const ids = actions.map((a, index) => a.id ?? `call_${index}`);
  return [
    {
      role: "assistant",
      content: null,
      tool_calls: actions.map((a, index) => ({
        id: ids[index] ?? `call_${index}`,
        type: "function",
        function: { name: a.tool, arguments: JSON.stringify(a.args) },
      })),
    },
    ...actions.map((a, index): ChatMessage => ({
      role: "tool",
      tool_call_id: ids[index] ?? `call_${index}`,
      content: truncate(
        JSON.stringify({ ok: a.ok, summary: a.summary, output: a.output }),
      ),
    })),
  ];
}

function truncate(text: string): string {
  return text.length <= MAX_TOOL_OUTPUT_CHARS
    ? text
    : `${text.slice(0, MAX_TOOL_OUTPUT_CHARS)}… (cut, ${text.length} characters in all)`;
}
