/**
 * Reading the OpenAI engine's streamed replies: content and usage as they
 * come, tool calls assembled from their pieces, an idle timer that covers
 * the stream (the SDK's timeout ends when the headers arrive), and plan
 * actions from tool calls, whatever their arguments look like.
 *
 * @module
 */

import type OpenAI from "openai";
import type { PlanAction, Usage } from "../../protocol.ts";
import type { EngineNote, EngineToken } from "../engine.ts";
import { type ToolCall, WHY_ARGUMENT } from "./prompts.ts";

/** One chunk of a streamed chat completion. */
export type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/** What one completion produced. */
export interface Reply {
  content: string;
  toolCalls: ToolCall[];
}

/**
 * Assembles a reply from stream chunks, where a tool call arrives in pieces.
 *
 * @example
 * ```ts
 * import { ReplyBuilder } from "./stream.ts";
 * const reply = new ReplyBuilder();
 * const usage = { model: "m", inputTokens: 0, outputTokens: 0 };
 * const chunk = (delta: object, finish: "stop" | null = null) =>
 *   ({ id: "x", object: "chat.completion.chunk" as const, created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] });
 * reply.add(chunk({ tool_calls: [{ index: 0, id: "c1", function: { name: "list_memories", arguments: "{" } }] }), usage);
 * reply.add(chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }, "stop"), usage);
 * console.log(reply.finished, reply.build().toolCalls[0]?.function.arguments); // true {}
 * ```
 */
export class ReplyBuilder {
  content = "";
  finished = false;
  #calls = new Map<number, ToolCall>();

  /** Takes one chunk in (adding its token counts to `usage`); returns its content delta, if any. */
  add(chunk: ChatChunk, usage: Usage): string {
    if (chunk.usage) {
      usage.inputTokens += chunk.usage.prompt_tokens ?? 0;
      usage.outputTokens += chunk.usage.completion_tokens ?? 0;
    }
    const choice = chunk.choices?.[0];
    if (!choice) return "";
    if (choice.finish_reason) this.finished = true;
    for (const part of choice.delta?.tool_calls ?? []) {
      const call = this.#calls.get(part.index) ??
        {
          id: "",
          type: "function" as const,
          function: { name: "", arguments: "" },
        };
      // The id and name come once, in the first piece; arguments come in many.
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) {
        call.function.arguments += part.function.arguments;
      }
      this.#calls.set(part.index, call);
    }
    const delta = choice.delta?.content ?? "";
    this.content += delta;
    return delta;
  }

  /** The reply so far: its content and its tool calls in order, each with an id. */
  build(): Reply {
    const toolCalls = [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    return { content: this.content, toolCalls };
  }
}

/**
 * Aborts a request when the model stays silent for too long. The SDK's own
 * timeout ends when the response headers arrive; this one covers the stream.
 *
 * @example
 * ```ts
 * import { IdleTimer } from "./stream.ts";
 * const idle = new IdleTimer(10);
 * await idle.during(() => new Promise((resolve) => setTimeout(resolve, 50)));
 * console.log(idle.fired, idle.signal.aborted); // true true
 * ```
 */
export class IdleTimer {
  #controller = new AbortController();
  #ms: number;
  /** Whether the model stayed silent past the limit. */
  fired = false;

  /** A timer that fires after `ms` of silence. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Aborts when the timer fires. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Waits on the model, with the timer running only meanwhile. */
  async during<T>(wait: () => Promise<T>): Promise<T> {
    const timer = setTimeout(() => {
      this.fired = true;
      this.#controller.abort();
    }, this.#ms);
    try {
      return await wait();
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Turns a tool call into a plan action, whatever its arguments look like:
 * text that is not a JSON object is kept under `__raw`, which validation
 * reports. The model's `why` argument leaves the arguments and becomes the
 * action's `why`; without one, the text the model wrote before its calls
 * (`said`) is the why, and with neither the action has none: a why is
 * never made up.
 *
 * @example
 * ```ts
 * import { toAction } from "./stream.ts";
 * const call = { id: "c1", type: "function" as const, function: { name: "search_memories", arguments: '{"query":"launch","why":"You asked when the launch is."}' } };
 * console.log(toAction(call)); // { id: "c1", tool: "search_memories", args: { query: "launch" }, why: "You asked when the launch is." }
 * console.log(toAction({ ...call, function: { name: "list_memories", arguments: "{}" } }, "Listing them.").why); // Listing them.
 * console.log(toAction({ ...call, function: { name: "x", arguments: "oops" } }).args); // { __raw: "oops" }
 * ```
 */
export function toAction(call: ToolCall, said = ""): PlanAction {
  const { [WHY_ARGUMENT]: given, ...args } = parseArguments(call.function.arguments);
  const why = typeof given === "string" && given.trim() !== "" ? given.trim() : said.trim();
  return { id: call.id, tool: call.function.name, args, ...(why ? { why } : {}) };
}

/**
 * Parses a tool call's arguments. Text that is not a JSON object is kept
 * under `__raw`: no tool accepts that key, so validation reports the action
 * and the model gets another try, instead of the run failing here.
 */
function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Falls through: malformed JSON is reported by validation, not thrown.
  }
  return { __raw: text };
}

/**
 * Forwards a generator's notes and drops its tokens (planning streams no tokens to the user).
 *
 * @example
 * ```ts
 * import { notesOnly } from "./stream.ts";
 * async function* reply() {
 *   yield { kind: "token" as const, delta: "hidden" };
 *   yield { kind: "note" as const, message: "Retrying" };
 *   return "done";
 * }
 * const seen = [];
 * const gen = notesOnly(reply());
 * for (let next = await gen.next(); !next.done; next = await gen.next()) seen.push(next.value.message);
 * console.log(seen); // ["Retrying"]
 * ```
 */
export async function* notesOnly<R>(
  inner: AsyncGenerator<EngineNote | EngineToken, R, void>,
): AsyncGenerator<EngineNote, R, void> {
  try {
    while (true) {
      const next = await inner.next();
      if (next.done) return next.value;
      if (next.value.kind === "note") yield next.value;
    }
  } finally {
    // Closes the inner stream when our consumer stops early.
    await inner.return(undefined as R);
  }
}

/**
 * Ends an iterator early; a failure to close must not hide the error that ended it.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./stream.ts";
 * await closeQuietly({ next: () => Promise.resolve({ done: true, value: undefined }), return: () => Promise.reject(new Error("gone")) });
 * console.log("closed"); // closed
 * ```
 */
export async function closeQuietly(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The request is already aborted or finished; nothing is left to release.
  }
}
