/**
 * A scriptable, OpenAI-compatible chat completions server for tests. It
 * listens on loopback, speaks the real streaming format (one
 * `data: {chat.completion.chunk}` event per delta, tool-call arguments split
 * across several chunks, a usage chunk, then `data: [DONE]`) and records every
 * request it gets.
 *
 * Each request to `POST /v1/chat/completions` takes the next reply from a
 * queue that the test fills with {@linkcode FakeOpenAI.script}. A reply can
 * call tools, stream text, be slow, fail with a status, drop the connection or
 * send a malformed chunk.
 *
 * @example Script a tool call, then an answer
 * ```ts
 * import { startFakeOpenAI } from "./fake_openai_server.ts";
 *
 * await using fake = startFakeOpenAI();
 * fake.script(
 *   { toolCalls: [{ name: "save_memory", arguments: { text: "Launch is May 3." } }] },
 *   { text: "Saved it." },
 * );
 * // Point an OpenAI client at `fake.url`, then inspect `fake.requests`.
 * ```
 *
 * @module
 */

/** A tool call the fake model makes. */
export interface FakeToolCall {
  /** The call's id; `call_<n>` when left out. */
  id?: string;
  name: string;
  /**
   * The arguments: an object is sent as JSON, a string is sent as is (so a
   * test can send malformed JSON).
   */
  arguments: string | Record<string, unknown>;
}

/** Token counts the fake model reports. */
export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** One scripted reply: what the server does with one request. */
export interface FakeReply {
  /** The HTTP status; anything but 200 sends an OpenAI-style error body. */
  status?: number;
  /** The error body's message when `status` is not 200. */
  errorMessage?: string;
  /** Extra response headers, such as `retry-after-ms`. */
  headers?: Record<string, string>;
  /** The answer's text, streamed in `pieces` chunks. */
  text?: string;
  /** Tool calls, each streamed as a name chunk then `pieces` argument chunks. */
  toolCalls?: FakeToolCall[];
  /** How many chunks each text and each argument string is split into (default 3). */
  pieces?: number;
  /** A wait before the response headers are sent. */
  headersDelayMs?: number;
  /** A wait before each streamed event. */
  chunkDelayMs?: number;
  /** Closes the connection without finishing after this many streamed events. */
  dropAfter?: number;
  /**
   * Sends nothing more after this many streamed events, until the client goes
   * away (see {@linkcode FakeRequest.whenCancelled}) or the server closes.
   */
  stallAfter?: number;
  /** Sends an event whose data is not JSON after the first chunk. */
  malformed?: boolean;
  /** The usage reported when asked for (default 12 prompt, 7 completion tokens). */
  usage?: FakeUsage;
}

/** A message as the client sent it. */
export interface FakeMessage {
  role: string;
  content?: string | null;
  tool_calls?: {
    id: string;
    type: string;
    function: { name: string; arguments: string };
  }[];
  tool_call_id?: string;
}

/** A chat completions request body as the client sent it. */
export interface FakeRequestBody {
  model: string;
  messages: FakeMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: {
    type: string;
    function: { name: string; description?: string; parameters?: unknown };
  }[];
  [key: string]: unknown;
}

/** A request the server got. */
export interface FakeRequest {
  path: string;
  headers: Headers;
  body: FakeRequestBody;
  /** Whether the client went away before the streamed reply was complete. */
  cancelled: boolean;
  /** Settles when the client goes away before the streamed reply is complete. */
  whenCancelled: Promise<void>;
}

/** A running fake server. Close it with `close()` or `await using`. */
export interface FakeOpenAI extends AsyncDisposable {
  /** The base URL to give an OpenAI client, ending in `/v1`. */
  url: string;
  /** Every request received, oldest first. */
  requests: FakeRequest[];
  /** Queues replies, one per coming request. */
  script(...replies: FakeReply[]): void;
  /** Queues `times` replies that fail with `status`. */
  fail(status: number, times?: number, headers?: Record<string, string>): void;
  /** How many scripted replies are still queued. */
  readonly pending: number;
  /** Stops the server, cutting short every delay and open stream. */
  close(): Promise<void>;
}

const DEFAULT_USAGE: FakeUsage = { prompt_tokens: 12, completion_tokens: 7 };
const encoder = new TextEncoder();

/**
 * Starts a fake OpenAI-compatible server on `127.0.0.1` at a free port.
 *
 * @example
 * ```ts
 * import { startFakeOpenAI } from "./fake_openai_server.ts";
 * const fake = startFakeOpenAI();
 * fake.fail(429, 2, { "retry-after-ms": "10" });
 * fake.script({ text: "Hello there." });
 * await fake.close();
 * ```
 */
export function startFakeOpenAI(): FakeOpenAI {
  const queue: FakeReply[] = [];
  const requests: FakeRequest[] = [];
  // Aborted by close() so no pending delay outlives the server (and the test).
  const closing = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method !== "POST" || path !== "/v1/chat/completions") {
        return errorResponse(404, `No route for ${req.method} "${path}".`);
      }
      const body = await req.json() as FakeRequestBody;
      const recorded = record(req, path, body);
      requests.push(recorded.request);
      const reply = queue.shift();
      if (!reply) {
        // 400 is never retried, so a missing script fails the test at once.
        return errorResponse(
          400,
          `No scripted reply left for request ${requests.length}.`,
        );
      }
      await delay(reply.headersDelayMs ?? 0, closing.signal);
      return respond(reply, body, recorded.cancel, closing.signal);
    },
  );
  const fake: FakeOpenAI = {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    script: (...replies) => void queue.push(...replies),
    fail(status, times = 1, headers) {
      for (let i = 0; i < times; i++) queue.push({ status, headers });
    },
    get pending() {
      return queue.length;
    },
    async close() {
      closing.abort();
      await server.shutdown();
    },
    [Symbol.asyncDispose]: () => fake.close(),
  };
  return fake;
}

function record(
  req: Request,
  path: string,
  body: FakeRequestBody,
): { request: FakeRequest; cancel: () => void } {
  let cancel = () => {};
  const request: FakeRequest = {
    path,
    headers: req.headers,
    body,
    cancelled: false,
    whenCancelled: new Promise<void>((resolve) => {
      cancel = () => {
        request.cancelled = true;
        resolve();
      };
    }),
  };
  return { request, cancel: () => cancel() };
}

function respond(
  reply: FakeReply,
  body: FakeRequestBody,
  onCancel: () => void,
  closing: AbortSignal,
): Response {
  const status = reply.status ?? 200;
  if (status !== 200) {
    return errorResponse(
      status,
      reply.errorMessage ?? `Scripted failure ${status}.`,
      reply.headers,
    );
  }
  if (!body.stream) {
    return Response.json(completion(reply, body), { headers: reply.headers });
  }
  const events = streamEvents(reply, body);
  const headers = new Headers({
    "content-type": "text/event-stream",
    ...reply.headers,
  });
  if (reply.dropAfter !== undefined) {
    events.splice(reply.dropAfter);
    // A length the body never reaches makes the client see the connection
    // drop mid-body, without the server logging an error.
    headers.set("content-length", "1000000");
  }
  return new Response(
    eventStream(events, reply.chunkDelayMs ?? 0, onCancel, closing, reply.stallAfter),
    {
      headers,
    },
  );
}

function eventStream(
  events: string[],
  delayMs: number,
  onCancel: () => void,
  closing: AbortSignal,
  stallAfter = Infinity,
): ReadableStream<Uint8Array> {
  const gone = new AbortController();
  const signal = AbortSignal.any([gone.signal, closing]);
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await delay(next >= stallAfter ? Infinity : delayMs, signal);
      if (signal.aborted) return;
      const event = events[next++];
      if (event === undefined) controller.close();
      else controller.enqueue(encoder.encode(event));
    },
    cancel() {
      gone.abort();
      onCancel();
    },
  });
}

function streamEvents(reply: FakeReply, body: FakeRequestBody): string[] {
  const id = `chatcmpl-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage: FakeUsage | null = null) =>
    `data: ${
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        choices,
        usage,
      })
    }\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, finish_reason: finish }]);
  const pieces = reply.pieces ?? 3;
  const events = [delta({ role: "assistant", content: "" })];
  if (reply.malformed) events.push('data: {"id": "broken", "choices": [\n\n');
  for (const part of split(reply.text ?? "", pieces)) {
    events.push(delta({ content: part }));
  }
  (reply.toolCalls ?? []).forEach((call, index) => {
    const first = { index, id: call.id ?? `call_${index}`, type: "function" };
    events.push(
      delta({
        tool_calls: [{
          ...first,
          function: { name: call.name, arguments: "" },
        }],
      }),
    );
    for (const part of split(argumentsText(call), pieces)) {
      events.push(
        delta({ tool_calls: [{ index, function: { arguments: part } }] }),
      );
    }
  });
  events.push(delta({}, reply.toolCalls?.length ? "tool_calls" : "stop"));
  if (body.stream_options?.include_usage) events.push(chunk([], usage(reply)));
  events.push("data: [DONE]\n\n");
  return events;
}

function completion(reply: FakeReply, body: FakeRequestBody): unknown {
  const toolCalls = reply.toolCalls?.map((call, index) => ({
    id: call.id ?? `call_${index}`,
    type: "function",
    function: { name: call.name, arguments: argumentsText(call) },
  }));
  return {
    id: `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: reply.text ?? null,
        tool_calls: toolCalls,
      },
      finish_reason: toolCalls?.length ? "tool_calls" : "stop",
    }],
    usage: usage(reply),
  };
}

function usage(reply: FakeReply): FakeUsage & { total_tokens: number } {
  const u = reply.usage ?? DEFAULT_USAGE;
  return { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
}

function argumentsText(call: FakeToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
}

/** Splits text into `n` parts of about equal length, never inside a code point. */
function split(text: string, n: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, n)));
  const parts: string[] = [];
  for (let i = 0; i < chars.length; i += size) {
    parts.push(chars.slice(i, i + size).join(""));
  }
  return parts;
}

function errorResponse(
  status: number,
  message: string,
  headers?: Record<string, string>,
) {
  return Response.json(
    {
      error: {
        message,
        type: status === 429 ? "rate_limit_exceeded" : "fake_error",
        code: null,
      },
    },
    { status, headers },
  );
}

/** Waits `ms` (Infinity: until the signal aborts), or less if the signal aborts first; never rejects. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal.addEventListener("abort", done, { once: true });
  });
}
