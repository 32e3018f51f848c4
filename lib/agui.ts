/**
 * Lantern's agent over AG-UI (the Agent-User Interaction protocol): the one
 * place where Lantern's native {@linkcode RunEvent}s become AG-UI events. The
 * native protocol stays the source; this module only translates it, using
 * `@ag-ui/core`'s types and schemas and `@ag-ui/encoder`'s encoder.
 *
 * What maps to what:
 *
 * - the run starts: `RUN_STARTED` (Lantern's run id in `metadata.lantern`);
 * - the project's memories: `STATE_SNAPSHOT` `{ memories }`, first and again
 *   after the `memory` step;
 * - `progress` start and end of a step: `STEP_STARTED`, `STEP_FINISHED`
 *   with the step's name;
 * - a tool action (an `execution` update): `TOOL_CALL_START`,
 *   `TOOL_CALL_ARGS`, `TOOL_CALL_END`, `TOOL_CALL_RESULT`;
 * - any other `progress` update: `CUSTOM` named `lantern.progress`;
 * - `token`: `TEXT_MESSAGE_START` (before the first), `TEXT_MESSAGE_CONTENT`;
 *   the end of `completion` brings `TEXT_MESSAGE_END`;
 * - `result`: `RUN_FINISHED` with the result;
 * - `cancelled`: the open message and step closed, then `RUN_FINISHED` with
 *   outcome `cancelled`;
 * - `error`: `RUN_ERROR` with its code and message, and nothing after it.
 *
 * @example Map a run that failed at once
 * ```ts
 * import { AguiMapper } from "./agui.ts";
 * const mapper = new AguiMapper({ threadId: "t1", runId: "r1", lanternRunId: "L1", projectId: "p1" });
 * const events = [
 *   ...mapper.start([]),
 *   ...mapper.map({
 *     type: "error", runId: "L1", seq: 1, ts: 0, error: { code: "x", message: "No.", step: null },
 *   }),
 * ];
 * console.log(events.map((e) => e.type)); // ["RUN_STARTED", "STATE_SNAPSHOT", "RUN_ERROR"]
 * ```
 *
 * @module
 */

import {
  contentToText,
  type Event as AguiEvent,
  EventType,
  PROTOCOL_VERSION,
  type RunAgentInput,
  type StateSnapshotEvent,
  type TokenUsage,
} from "@ag-ui/core";
import { RunAgentInputSchema } from "@ag-ui/core/schemas";
import { EventEncoder } from "@ag-ui/encoder";
import { HttpError } from "./http_error.ts";
import type { Memory, Progress, RunEvent } from "./protocol.ts";
import type { RunFeed } from "./runs/feed.ts";
import { FeedWaiter, KEEP_ALIVE } from "./runs/feed_waiter.ts";
import { MessageBody } from "./schemas.ts";

export type { AguiEvent };

/**
 * The body of `POST /api/projects/:id/agui`: AG-UI's own RunAgentInput schema
 * (`threadId`, `runId`, `messages`, `tools`, `context`, `state`,
 * `forwardedProps`).
 */
export const AguiInput: typeof RunAgentInputSchema = RunAgentInputSchema;

/**
 * The largest AG-UI request body read, in bytes. Larger than Lantern's own
 * JSON bodies because an AG-UI client sends the whole thread with every run.
 */
export const AGUI_MAX_BODY_BYTES = 1024 * 1024;

/** The agent state Lantern shares: the project's memories. */
export interface AguiState {
  memories: Memory[];
}

/** The name of the `CUSTOM` event that carries progress AG-UI has no event for. */
export const PROGRESS_EVENT = "lantern.progress";

/**
 * The text of the last user message of an input: the message a run answers.
 * Content parts other than text are dropped. Throws a 400
 * {@linkcode HttpError} when there is no user message, and a 400 or 413 when
 * its text is not a message Lantern accepts (empty, control characters, too
 * long).
 *
 * @example
 * ```ts
 * import { lastUserMessage } from "./agui.ts";
 * const text = lastUserMessage({
 *   threadId: "t", runId: "r", tools: [], context: [],
 *   messages: [{ id: "1", role: "user", content: " Hi " }, { id: "2", role: "assistant", content: "Hello" }],
 * });
 * console.log(text); // Hi
 * ```
 */
export function lastUserMessage(input: RunAgentInput): string {
  const message = input.messages.findLast((m) => m.role === "user");
  if (!message || message.role !== "user") {
    throw new HttpError(400, "no_user_message", "The input has no user message to answer.");
  }
  const parsed = MessageBody.safeParse({ message: contentToText(message.content) });
  if (parsed.success) return parsed.data.message;
  const issue = parsed.error.issues[0];
  const tooLarge = parsed.error.issues.some((i) => i.code === "custom" && i.params?.tooLarge);
  const detail = (issue?.message ?? "it is invalid.").replace(/^message /, "it ");
  throw new HttpError(
    tooLarge ? 413 : 400,
    tooLarge ? "message_too_large" : "invalid_message",
    `The last user message ("${message.id.slice(0, 80)}") cannot be answered: ${detail}`,
  );
}

/** What a {@linkcode AguiMapper} needs to know about its run. */
export interface AguiMapperOptions {
  /** The client's thread id, echoed on `RUN_STARTED` and `RUN_FINISHED`. */
  threadId: string;
  /** The client's run id, echoed likewise (Lantern's own differs). */
  runId: string;
  /** The request, echoed as `RUN_STARTED.input`. */
  input?: RunAgentInput;
  /** Lantern's id of the run. */
  lanternRunId: string;
  projectId: string;
}

/**
 * Translates one run's native events into AG-UI events, in an order that
 * passes `@ag-ui/client`'s verification: `RUN_STARTED` first, every step and
 * text message closed before `RUN_FINISHED`, nothing after `RUN_ERROR`.
 * Stateful; one mapper per stream.
 */
export class AguiMapper {
  readonly #options: AguiMapperOptions;
  readonly #openSteps = new Set<string>();
  #openMessage: string | null = null;
  #ended = false;

  /** A mapper for one run. */
  constructor(options: AguiMapperOptions) {
    this.#options = options;
  }

  /** Whether the terminal event (`RUN_FINISHED` or `RUN_ERROR`) was mapped. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The id of the assistant message that carries the answer. */
  get answerId(): string {
    return `${this.#options.lanternRunId}-answer`;
  }

  /** The id of the assistant message that holds the run's tool calls. */
  get actionsId(): string {
    return `${this.#options.lanternRunId}-actions`;
  }

  /** The opening events: `RUN_STARTED` and the memories as a state snapshot. */
  start(memories: Memory[]): AguiEvent[] {
    const { threadId, runId, input, lanternRunId, projectId } = this.#options;
    return [
      {
        type: EventType.RUN_STARTED,
        timestamp: Date.now(),
        threadId,
        runId,
        protocolVersion: PROTOCOL_VERSION,
        ...(input ? { input } : {}),
        metadata: { lantern: { runId: lanternRunId, projectId } },
      },
      this.snapshot(memories),
    ];
  }

  /** The state snapshot for a list of memories. */
  snapshot(memories: Memory[]): StateSnapshotEvent {
    const state: AguiState = { memories };
    return { type: EventType.STATE_SNAPSHOT, timestamp: Date.now(), snapshot: state };
  }

  /** The AG-UI events for one native event (none after the run ended). */
  map(event: RunEvent): AguiEvent[] {
    if (this.#ended) return [];
    const timestamp = Math.round(event.ts);
    switch (event.type) {
      case "progress":
        return this.#progress(event.progress, event, timestamp);
      case "token":
        return this.#token(event.delta, timestamp);
      case "result": {
        this.#ended = true;
        const { result } = event;
        const usage: TokenUsage[] | undefined = result.usage
          ? [{
            provider: result.engine,
            model: result.usage.model,
            inputTokens: result.usage.inputTokens,
            outputTokens: result.usage.outputTokens,
            totalTokens: result.usage.inputTokens + result.usage.outputTokens,
          }]
          : undefined;
        return [
          ...this.#closeAll(timestamp),
          {
            type: EventType.RUN_FINISHED,
            timestamp,
            threadId: this.#options.threadId,
            runId: this.#options.runId,
            result,
            outcome: { type: "success" },
            ...(usage ? { usage } : {}),
          },
        ];
      }
      case "cancelled":
        this.#ended = true;
        return [
          // RUN_FINISHED is refused while a step or a message is open.
          ...this.#closeAll(timestamp),
          {
            type: EventType.RUN_FINISHED,
            timestamp,
            threadId: this.#options.threadId,
            runId: this.#options.runId,
            result: { runId: event.runId, cancelled: event.cancelled },
            outcome: { type: "cancelled" },
          },
        ];
      case "error":
        // RUN_ERROR may leave steps and messages open; nothing may follow it.
        this.#ended = true;
        return [{
          type: EventType.RUN_ERROR,
          timestamp,
          code: event.error.code,
          message: event.error.message,
          rawEvent: event,
        }];
    }
  }

  /**
   * The `RUN_ERROR` for a stream that ended before its run did (the feed
   * closed without a terminal event, or could not be read).
   */
  lost(): AguiEvent[] {
    if (this.#ended) return [];
    this.#ended = true;
    return [{
      type: EventType.RUN_ERROR,
      timestamp: Date.now(),
      code: "stream_interrupted",
      message: `The stream ended before run "${this.#options.lanternRunId}" did. ` +
        "If it finishes, its answer will be in the project's conversation.",
    }];
  }

  #progress(progress: Progress, event: RunEvent, timestamp: number): AguiEvent[] {
    const stepName = progress.step;
    if (progress.phase === "start") {
      if (this.#openSteps.has(stepName)) return [];
      this.#openSteps.add(stepName);
      return [{ type: EventType.STEP_STARTED, timestamp, stepName, rawEvent: event }];
    }
    if (progress.phase === "end") {
      if (!this.#openSteps.has(stepName)) return [];
      this.#openSteps.delete(stepName);
      return [
        ...(stepName === "completion" ? this.#closeMessage(timestamp) : []),
        { type: EventType.STEP_FINISHED, timestamp, stepName, rawEvent: event },
      ];
    }
    const { index, tool, args, ok, output } = progress.metadata;
    if (stepName === "execution" && typeof index === "number" && typeof tool === "string") {
      const toolCallId = `${this.#options.lanternRunId}-tool-${index}`;
      return [
        {
          type: EventType.TOOL_CALL_START,
          timestamp,
          toolCallId,
          toolCallName: tool,
          parentMessageId: this.actionsId,
          rawEvent: event,
        },
        { type: EventType.TOOL_CALL_ARGS, timestamp, toolCallId, delta: JSON.stringify(args ?? {}) },
        { type: EventType.TOOL_CALL_END, timestamp, toolCallId },
        {
          type: EventType.TOOL_CALL_RESULT,
          timestamp,
          messageId: `${toolCallId}-result`,
          toolCallId,
          role: "tool",
          content: JSON.stringify({ ok: ok === true, summary: progress.message, output: output ?? null }),
        },
      ];
    }
    return [{ type: EventType.CUSTOM, timestamp, name: PROGRESS_EVENT, value: progress }];
  }

  #token(delta: string, timestamp: number): AguiEvent[] {
    // An empty delta says nothing; older AG-UI clients refuse one.
    if (delta === "") return [];
    const out: AguiEvent[] = [];
    if (this.#openMessage === null) {
      this.#openMessage = this.answerId;
      out.push({
        type: EventType.TEXT_MESSAGE_START,
        timestamp,
        messageId: this.answerId,
        role: "assistant",
      });
    }
    out.push({ type: EventType.TEXT_MESSAGE_CONTENT, timestamp, messageId: this.#openMessage, delta });
    return out;
  }

  #closeMessage(timestamp: number): AguiEvent[] {
    if (this.#openMessage === null) return [];
    const messageId = this.#openMessage;
    this.#openMessage = null;
    return [{ type: EventType.TEXT_MESSAGE_END, timestamp, messageId }];
  }

  #closeAll(timestamp: number): AguiEvent[] {
    const out = this.#closeMessage(timestamp);
    for (const stepName of this.#openSteps) {
      out.push({ type: EventType.STEP_FINISHED, timestamp, stepName });
    }
    this.#openSteps.clear();
    return out;
  }
}

/** Where a stream gets the project's memories for its state snapshots. */
export interface MemorySource {
  /** The memories when the run started. */
  initial: Memory[];
  /** Reads them again (after the memory step). */
  load(): Promise<Memory[]>;
}

/** Whether an event ends the memory step, after which the memories are sent again. */
function endsMemoryStep(event: RunEvent): boolean {
  return event.type === "progress" && event.progress.step === "memory" && event.progress.phase === "end";
}

const encoder = new TextEncoder();
const eventEncoder = new EventEncoder();

/** The content type of an AG-UI stream, as `@ag-ui/encoder` chooses it. */
export const AGUI_CONTENT_TYPE: string = eventEncoder.getContentType();

/** The headers of an AG-UI stream response. */
export const AGUI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": AGUI_CONTENT_TYPE,
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
});

/** Encodes one AG-UI event as its `data:` frame. */
export function encodeAguiEvent(event: AguiEvent): Uint8Array {
  return encoder.encode(eventEncoder.encode(event));
}

/** Options of {@linkcode aguiStream}. */
export interface AguiStreamOptions {
  /** Send a keep-alive comment after this much silence. */
  heartbeatMs: number;
  /** Called once when the stream ends, for any reason. */
  onClose?: () => void;
}

/**
 * The AG-UI event stream (`data: <event JSON>` frames) of a run's feed, from
 * its first event: the opening events, each native event mapped (with a
 * fresh state snapshot after the memory step), and `RUN_FINISHED` or
 * `RUN_ERROR` last (a `RUN_ERROR` also when the feed closes without a
 * terminal event). It pulls, as the native stream does: events are mapped
 * only when the response asks for more, so a slow reader holds a cursor,
 * never a buffer, and keep-alive comments come from one timer per stream,
 * armed only while the stream waits. Cancelling the stream (the client went
 * away) stops following the feed; the run goes on.
 *
 * @example
 * ```ts
 * import { AguiMapper, aguiStream } from "./agui.ts";
 * import { RunFeed } from "./runs/feed.ts";
 * const feed = new RunFeed("L1", "p1");
 * feed.push({ type: "error", runId: "L1", seq: 1, ts: 0, error: { code: "x", message: "No.", step: null } });
 * const mapper = new AguiMapper({ threadId: "t1", runId: "r1", lanternRunId: "L1", projectId: "p1" });
 * const memories = { initial: [], load: () => Promise.resolve([]) };
 * const body = aguiStream(feed, mapper, memories, { heartbeatMs: 1000 });
 * console.log((await new Response(body).text()).startsWith('data: {"type":"RUN_STARTED"')); // true
 * ```
 */
export function aguiStream(
  feed: RunFeed,
  mapper: AguiMapper,
  memories: MemorySource,
  options: AguiStreamOptions,
): ReadableStream<Uint8Array> {
  let cursor = 0;
  const waiter = new FeedWaiter(feed, options.heartbeatMs);
  const cleanup = () => {
    if (waiter.close()) options.onClose?.();
  };
  /** Ends the stream after the run's last AG-UI event (or a `RUN_ERROR` if it had none). */
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    for (const event of mapper.lost()) controller.enqueue(encodeAguiEvent(event));
    controller.close();
    cleanup();
  };
  /** Maps and sends a batch of native events; a memory step's end brings a fresh snapshot. */
  const send = async (controller: ReadableStreamDefaultController<Uint8Array>, batch: RunEvent[]) => {
    for (const event of batch) {
      if (event.seq <= cursor) continue;
      cursor = event.seq;
      for (const mapped of mapper.map(event)) controller.enqueue(encodeAguiEvent(mapped));
      if (mapper.ended) return end(controller);
      if (endsMemoryStep(event)) {
        let current: Memory[] | null = null;
        try {
          current = await memories.load();
        } catch (error) {
          // The snapshot is a courtesy; the stream goes on without it.
          console.error("Reading memories for an AG-UI state snapshot failed:", error);
        }
        if (waiter.closed) return;
        if (current) controller.enqueue(encodeAguiEvent(mapper.snapshot(current)));
      }
    }
    waiter.sent();
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of mapper.start(memories.initial)) controller.enqueue(encodeAguiEvent(event));
    },
    async pull(controller) {
      while (!waiter.closed) {
        if (feed.behind(cursor)) {
          let next: RunEvent[];
          try {
            next = await feed.catchUp(cursor);
          } catch (error) {
            if (waiter.closed) return;
            console.error(`The AG-UI stream of run ${feed.runId} could not catch up from its log:`, error);
            return end(controller);
          }
          if (waiter.closed) return;
          return await send(controller, next);
        }
        if (cursor < feed.lastSeq) {
          const batch = feed.after(cursor);
          // Events gone from memory with no log to read them from: nothing more can be told.
          if (batch.length === 0) return end(controller);
          return await send(controller, batch);
        }
        // Done with nothing left to send: the feed closed without a terminal event.
        if (feed.done) return end(controller);
        if (await waiter.wait()) {
          controller.enqueue(KEEP_ALIVE);
          waiter.sent();
          return;
        }
      }
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0 });
}
