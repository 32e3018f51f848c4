/**
 * An engine backed by any OpenAI-compatible chat completions API (OpenAI,
 * Ollama, vLLM, LM Studio…), through the official `openai` SDK.
 *
 * Planning is one streamed call that offers the model Lantern's tools; the
 * answer is a second streamed call that sees what the tools did. Failures
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

import { plural } from "../plural.ts";
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { ActionResult, Memory, PlanAction, Usage } from "../protocol.ts";
import {
  type Analysis,
  type Engine,
  type EngineContext,
  EngineError,
  type EngineNote,
  type EngineToken,
  type Outcome,
} from "./engine.ts";
import { sleep } from "./sleep.ts";
import { type PlanProblem, TOOLS } from "./tools.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatTool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type ToolCall = OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;

/** The API used when `OPENAI_BASE_URL` is not set. */
export const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/** The first retry waits this long; each next one waits twice as long. */
const BACKOFF_MS = 250;
/** A `Retry-After` longer than this is not worth holding a run open for. */
const MAX_RETRY_AFTER_MS = 20_000;
/** Tool output beyond this many characters is cut before it reaches the model. */
const MAX_TOOL_OUTPUT_CHARS = 8_000;

/** What {@linkcode OpenAIEngine} needs to reach a model. */
export interface OpenAIEngineOptions {
  /** The API's base URL, ending in `/v1`; OpenAI's when left out. */
  baseUrl?: string;
  /** The API key; local servers such as Ollama accept any non-empty value. */
  apiKey: string;
  /** The model's name, such as `gpt-4o-mini` or `llama3.1`. */
  model: string;
  /** How long to wait for a reply to start, and at most between two streamed chunks. */
  timeoutMs: number;
  /** How many times a 429, a 5xx or an unreachable server is retried. */
  maxRetries: number;
  /** The `fetch` the SDK uses; the global one when left out. */
  fetch?: typeof fetch;
}

/**
 * Picks the OpenAI engine's options out of the configuration, with a sentence
 * naming the variable to set when one is missing or wrong.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openAIEngineOptions } from "./openai_engine.ts";
 * try {
 *   openAIEngineOptions(loadConfig({ LANTERN_ENGINE: "openai" }));
 * } catch (error) {
 *   console.log((error as Error).message); // OPENAI_API_KEY must be set…
 * }
 * ```
 */
export function openAIEngineOptions(config: Config): OpenAIEngineOptions {
  const { baseUrl, apiKey, model, timeoutMs, maxRetries } = config.openai;
  if (!apiKey) {
    throw new Error(
      `OPENAI_API_KEY must be set when LANTERN_ENGINE is "openai"; local servers such as Ollama check no key, so any non-empty value works for them (for example "ollama").`,
    );
  }
  if (!model) {
    throw new Error(
      `LANTERN_MODEL must name the model when LANTERN_ENGINE is "openai", for example "gpt-4o-mini" or "llama3.1".`,
    );
  }
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    throw new Error(
      `OPENAI_BASE_URL must be a URL such as "http://localhost:11434/v1", got "${baseUrl}".`,
    );
  }
  if (timeoutMs < 1) {
    throw new Error(
      `LANTERN_MODEL_TIMEOUT_MS must be at least 1, got "${timeoutMs}".`,
    );
  }
  return {
    baseUrl: baseUrl ?? DEFAULT_BASE_URL,
    apiKey,
    model,
    timeoutMs,
    maxRetries,
  };
}

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
  /** The last planning call's tool calls, shown to the model when it replans. */
  #lastCalls = new WeakMap<EngineContext, ToolCall[]>();

  /** Makes an engine; no request is sent until a run needs one. */
  constructor(options: OpenAIEngineOptions) {
    this.model = options.model;
    this.#baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.#timeoutMs = options.timeoutMs;
    this.#maxRetries = options.maxRetries;
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
    return reply.toolCalls.map(toAction);
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
        if (delayMs === null) throw this.#toEngineError(error, attempt);
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
      if (idle.fired && !ctx.signal.aborted) throw this.#timeoutError(error);
      rethrowIfAborted(ctx.signal, error);
      throw streamError(error);
    } finally {
      // Stops the request when the consumer gave up before the end.
      if (!done) await closeQuietly(chunks);
    }
    // The SDK ends a stream quietly when its request is aborted.
    rethrowIfAborted(ctx.signal);
    if (idle.fired) throw this.#timeoutError();
    if (!reply.finished) {
      throw new EngineError(
        "model_bad_response",
        "The model's reply stopped before it was complete; try again.",
      );
    }
    return reply.build();
  }

  #timeoutError(cause?: unknown): EngineError {
    return new EngineError(
      "model_timeout",
      `The model did not answer within ${this.#timeoutMs} ms; try again, or raise LANTERN_MODEL_TIMEOUT_MS.`,
      { cause },
    );
  }

  /** Maps a failure to start a completion to an error the user can act on. */
  #toEngineError(error: unknown, attempts: number): unknown {
    const tries = plural(attempts, "attempt");
    if (error instanceof APIConnectionTimeoutError) {
      return this.#timeoutError(error);
    }
    if (error instanceof APIConnectionError) {
      return new EngineError(
        "model_network",
        `Lantern could not reach the model provider at "${this.#baseUrl}" after ${tries}; check OPENAI_BASE_URL and that the server is running, then try again.`,
        { cause: error },
      );
    }
    if (!(error instanceof APIError)) return error;
    const status = error.status;
    if (status === 401 || status === 403) {
      return new EngineError(
        "model_auth",
        `The model provider refused the API key (${status}); check OPENAI_API_KEY and try again.`,
        { cause: error },
      );
    }
    if (status === 429) {
      return new EngineError(
        "model_rate_limited",
        `The model provider is still rate limiting requests (429) after ${tries}; wait a minute and try again.`,
        { cause: error },
      );
    }
    if (status === 408) return this.#timeoutError(error);
    if (status !== undefined && (status >= 500 || status === 409)) {
      return new EngineError(
        "model_unavailable",
        `The model provider failed with status ${status} after ${tries}; try again later.`,
        { cause: error },
      );
    }
    if (status === 404) {
      return new EngineError(
        "model_not_found",
        `The model provider at "${this.#baseUrl}" does not know the model "${this.model}" (404); check LANTERN_MODEL and OPENAI_BASE_URL.`,
        { cause: error },
      );
    }
    if (status !== undefined) {
      return new EngineError(
        "model_bad_request",
        `The model provider rejected the request (${status}: "${
          providerMessage(error)
        }"); check LANTERN_MODEL, or try another model.`,
        { cause: error },
      );
    }
    return streamError(error);
  }
}

/** What one completion produced. */
interface Reply {
  content: string;
  toolCalls: ToolCall[];
}

/** Assembles a reply from stream chunks, where a tool call arrives in pieces. */
class ReplyBuilder {
  content = "";
  finished = false;
  #calls = new Map<number, ToolCall>();

  /** Takes one chunk in; returns its content delta, if any. */
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
 */
class IdleTimer {
  #controller = new AbortController();
  #ms: number;
  fired = false;

  constructor(ms: number) {
    this.#ms = ms;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

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

let definitions: ChatTool[] | undefined;

/** Lantern's tools as the model sees them, their schemas as JSON Schema. */
function toolDefinitions(): ChatTool[] {
  definitions ??= Object.values(TOOLS).map((tool) => {
    const { $schema: _, ...parameters } = z.toJSONSchema(tool.schema) as Record<
      string,
      unknown
    >;
    return {
      type: "function",
      function: { name: tool.name, description: tool.description, parameters },
    };
  });
  return definitions;
}

/** Turns a tool call into a plan action, whatever its arguments look like. */
function toAction(call: ToolCall): PlanAction {
  return {
    id: call.id,
    tool: call.function.name,
    args: parseArguments(call.function.arguments),
  };
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

function plannerPrompt(ctx: EngineContext): string {
  return [
    `You are Lantern's planner. Lantern keeps a memory of facts for the project "${ctx.project.name}".`,
    "Use the tools to act on the project's memory for the user's latest message: save what the user asks to remember, search or list memories to answer questions, delete what the user asks to forget, summarize the project when asked.",
    "Only call tools now; the answer is written later, from what the tools return. Call no tool when none is needed.",
    "",
    memoryList(ctx.memories),
  ].join("\n");
}

function answerPrompt(ctx: EngineContext, outcome: Outcome): string {
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

/** The conversation so far and the user's message, content only. */
function conversation(ctx: EngineContext): ChatMessage[] {
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
 */
function replanMessages(
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

/** The tool calls that ran and their results, as the model expects them. */
function toolResultMessages(actions: ActionResult[]): ChatMessage[] {
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

/** How long to wait before retrying, or `null` when the failure is final. */
function retryDelay(error: unknown, attempt: number): number | null {
  const backoff = BACKOFF_MS * 2 ** (attempt - 1);
  // A timeout is not retried: the user already waited the whole timeout once.
  if (error instanceof APIConnectionTimeoutError) return null;
  if (error instanceof APIConnectionError) return backoff;
  if (!(error instanceof APIError) || error.status === undefined) return null;
  const status = error.status;
  if (status !== 408 && status !== 409 && status !== 429 && status < 500) {
    return null;
  }
  if (error.headers?.get("x-should-retry") === "false") return null;
  const hinted = retryAfterMs(error.headers);
  if (hinted === null) return backoff;
  return hinted <= MAX_RETRY_AFTER_MS ? hinted : null;
}

/** The wait a response asks for, from `retry-after-ms` or `retry-after`. */
function retryAfterMs(headers: Headers | undefined): number | null {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers?.get("retry-after");
  if (!raw) return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return Math.round(seconds * 1000);
  }
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function retryNote(
  error: unknown,
  attempt: number,
  attempts: number,
  delayMs: number,
): EngineNote {
  const status = error instanceof APIError ? error.status : undefined;
  const what = status === undefined
    ? "The model provider could not be reached"
    : `The model answered ${status}`;
  return {
    kind: "note",
    message: `${what}; retrying in ${delayMs} ms (attempt ${attempt} of ${attempts}).`,
    details: error instanceof Error ? error.message : String(error),
    metadata: { attempt, attempts, status: status ?? null, delayMs },
  };
}

/** Forwards a generator's notes; planning streams no tokens to the user. */
async function* notesOnly<R>(
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

/** Ends an iterator early; a failure to close must not hide the error that ended it. */
async function closeQuietly(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The request is already aborted or finished; nothing is left to release.
  }
}

/** Maps a failure while reading a stream. */
function streamError(error: unknown): unknown {
  if (
    error instanceof SyntaxError ||
    (error instanceof APIError && error.status === undefined)
  ) {
    return new EngineError(
      "model_bad_response",
      "The model sent a reply Lantern could not read; try again, or pick another model with LANTERN_MODEL.",
      { cause: error },
    );
  }
  if (error instanceof TypeError || error instanceof APIConnectionError) {
    return new EngineError(
      "model_network",
      "The connection to the model dropped before its reply was complete; try again.",
      { cause: error },
    );
  }
  return error;
}

function providerMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message : error.message;
}

/** Rethrows the run's abort when it was cancelled, whatever failed meanwhile. */
function rethrowIfAborted(signal: AbortSignal, error?: unknown): void {
  if (signal.aborted) throw signal.reason;
  if (error instanceof APIUserAbortError) {
    throw new DOMException("The model request was aborted.", "AbortError");
  }
}
