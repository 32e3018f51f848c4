/**
 * An engine backed by any OpenAI-compatible chat completions API (OpenAI,
 * Ollama, vLLM, LM Studio…), through the official `openai` SDK.
 *
 * Planning is one streamed call that offers the model Lantern's tools, each
 * with a required `why` argument that becomes the action's `why` in the
 * steps and `action` events; the answer is a second streamed call that sees
 * what the tools did. Failures
 * become {@linkcode EngineError}s with stable codes, 429s and 5xxs are retried
 * with backoff (each retry announced as a note), and cancelling the run aborts
 * the HTTP request at once.
 *
 * @example Build the engine from the configuration
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OpenAIEngine, openAIEngineOptions } from "./openai_engine.ts";
 *
 * const config = loadConfig({
 *   LANTERN_ENGINE: "openai",
 *   OPENAI_BASE_URL: "http://localhost:11434/v1",
 *   OPENAI_API_KEY: "ollama",
 *   LANTERN_MODEL: "llama3.1",
 * });
 * const engine = new OpenAIEngine(openAIEngineOptions(config));
 * console.log(engine.name, engine.model); // openai llama3.1
 * ```
 *
 * @module
 */

import OpenAI from "openai";
import type { PlanAction } from "../protocol.ts";
import type { Analysis, Engine, EngineContext, EngineNote, EngineToken, Outcome } from "./engine.ts";
import { sleep } from "./sleep.ts";
import type { PlanProblem } from "./tools.ts";
import {
  type ModelAt,
  rethrowIfAborted,
  retryDelay,
  retryNote,
  streamError,
  timeoutError,
  toEngineError,
} from "./openai/errors.ts";
import { DEFAULT_BASE_URL, type OpenAIEngineOptions } from "./openai/options.ts";
import {
  answerPrompt,
  type ChatMessage,
  type ChatTool,
  conversation,
  plannerPrompt,
  replanMessages,
  type ToolCall,
  toolDefinitions,
  toolResultMessages,
} from "./openai/prompts.ts";
import {
  type ChatChunk,
  closeQuietly,
  IdleTimer,
  notesOnly,
  type Reply,
  ReplyBuilder,
  toAction,
} from "./openai/stream.ts";
import { EngineError } from "./engine.ts";

export { DEFAULT_BASE_URL, type OpenAIEngineOptions, openAIEngineOptions } from "./openai/options.ts";

/**
 * An {@linkcode Engine} that plans with a model's tool calls and streams the
 * model's answer.
 *
 * @example Plan and answer against an OpenAI-compatible server
 * ```ts ignore
 * import { OpenAIEngine } from "./openai_engine.ts";
 * const engine = new OpenAIEngine({
 *   baseUrl: "http://localhost:11434/v1",
 *   apiKey: "ollama",
 *   model: "llama3.1",
 *   timeoutMs: 60_000,
 *   maxRetries: 2,
 * });
 * ```
 */
export class OpenAIEngine implements Engine {
  /** Always `openai`. */
  readonly name = "openai";
  /** The model that plans and answers. */
  readonly model: string;
  /** Models make mistakes in tool arguments; one more try usually fixes them. */
  readonly replansInvalid = true;
  #client: OpenAI;
  #baseUrl: string;
  #timeoutMs: number;
  #maxRetries: number;
  /** Where the model is, for the errors that name it. */
  #where: ModelAt;
  /** The last planning call's tool calls, shown to the model when it replans. */
  #lastCalls = new WeakMap<EngineContext, ToolCall[]>();

  /** Makes an engine; no request is sent until a run needs one. */
  constructor(options: OpenAIEngineOptions) {
    this.model = options.model;
    this.#baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.#timeoutMs = options.timeoutMs;
    this.#maxRetries = options.maxRetries;
    this.#where = { baseUrl: this.#baseUrl, model: this.model, timeoutMs: this.#timeoutMs };
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: this.#baseUrl,
      timeout: options.timeoutMs,
      // The SDK retries silently; the engine retries itself to tell the user.
      maxRetries: 0,
      fetch: options.fetch,
    });
  }

  /** Needs no model call: the planning call works out the intent and the tools at once. */
  // deno-lint-ignore require-yield
  async *analyze(
    ctx: EngineContext,
  ): AsyncGenerator<EngineNote, Analysis, void> {
    ctx.signal.throwIfAborted();
    return {
      intent: "model",
      summary: `The model "${this.model}" reads the message and chooses the tools to use.`,
      metadata: { model: this.model, memories: ctx.memories.length },
    };
  }

  /** Asks the model for tool calls; with `problems`, shows it what was wrong with its last ones. */
  async *plan(
    ctx: EngineContext,
    _analysis: Analysis,
    problems?: PlanProblem[],
  ): AsyncGenerator<EngineNote, PlanAction[], void> {
    const messages = [
      { role: "system", content: plannerPrompt(ctx) },
      ...conversation(ctx),
      ...(problems ? replanMessages(this.#lastCalls.get(ctx), problems) : []),
    ] satisfies ChatMessage[];
    const reply = yield* notesOnly(
      this.#complete(ctx, messages, toolDefinitions(), false),
    );
    this.#lastCalls.set(ctx, reply.toolCalls);
    // The text a model writes before its calls, if any, is its reason for them when a call gives none.
    return reply.toolCalls.map((call) => toAction(call, reply.content));
  }

  /** Streams the model's answer, given what the tools did. */
  async *answer(
    ctx: EngineContext,
    _analysis: Analysis,
    outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    const messages = [
      { role: "system", content: answerPrompt(ctx, outcome) },
      ...conversation(ctx),
      ...toolResultMessages(outcome.actions),
    ] satisfies ChatMessage[];
    yield* this.#complete(ctx, messages, undefined, true);
  }

  /** One streamed completion, retried on 429, 5xx and unreachable servers. */
  async *#complete(
    ctx: EngineContext,
    messages: ChatMessage[],
    tools: ChatTool[] | undefined,
    emitTokens: boolean,
  ): AsyncGenerator<EngineNote | EngineToken, Reply, void> {
    const attempts = this.#maxRetries + 1;
    for (let attempt = 1;; attempt++) {
      const idle = new IdleTimer(this.#timeoutMs);
      let stream: AsyncIterable<ChatChunk>;
      try {
        stream = await this.#client.chat.completions.create(
          {
            model: this.model,
            messages,
            ...(tools ? { tools, tool_choice: "auto" as const } : {}),
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: AbortSignal.any([ctx.signal, idle.signal]) },
        );
      } catch (error) {
        rethrowIfAborted(ctx.signal, error);
        const delayMs = attempt < attempts ? retryDelay(error, attempt) : null;
        if (delayMs === null) throw toEngineError(error, attempt, this.#where);
        yield retryNote(error, attempt + 1, attempts, delayMs);
        await sleep(delayMs, ctx.signal);
        continue;
      }
      // Once chunks flow, a retry could repeat tokens the user already saw.
      return yield* this.#read(ctx, stream, idle, emitTokens);
    }
  }

  /** Reads a stream to its end, assembling content and tool calls. */
  async *#read(
    ctx: EngineContext,
    stream: AsyncIterable<ChatChunk>,
    idle: IdleTimer,
    emitTokens: boolean,
  ): AsyncGenerator<EngineToken, Reply, void> {
    ctx.usage.model = this.model;
    const reply = new ReplyBuilder();
    const chunks = stream[Symbol.asyncIterator]();
    let done = false;
    try {
      while (true) {
        // The timer runs only while waiting on the model, not on our consumer.
        const next = await idle.during(() => chunks.next());
        if (next.done) break;
        const delta = reply.add(next.value, ctx.usage);
        if (delta && emitTokens) yield { kind: "token", delta };
      }
      done = true;
    } catch (error) {
      if (idle.fired && !ctx.signal.aborted) throw timeoutError(this.#timeoutMs, error);
      rethrowIfAborted(ctx.signal, error);
      throw streamError(error);
    } finally {
      // Stops the request when the consumer gave up before the end.
      if (!done) await closeQuietly(chunks);
    }
    // The SDK ends a stream quietly when its request is aborted.
    rethrowIfAborted(ctx.signal);
    if (idle.fired) throw timeoutError(this.#timeoutMs);
    if (!reply.finished) {
      throw new EngineError(
        "model_bad_response",
        "The model's reply stopped before it was complete; try again.",
      );
    }
    return reply.build();
  }
}
