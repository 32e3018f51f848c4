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
 * - an `action` (a tool action): `TOOL_CALL_START`, `TOOL_CALL_ARGS`,
 *   `TOOL_CALL_END`, `TOOL_CALL_RESULT`;
 * - a `progress` update: `CUSTOM` named `lantern.progress`;
 * - `token`: `TEXT_MESSAGE_START` (before the first), `TEXT_MESSAGE_CONTENT`;
 *   the end of `completion` brings `TEXT_MESSAGE_END`;
 * - `result`: `RUN_FINISHED` with the result;
 * - `cancelled`: the open message and step closed, then `RUN_FINISHED` with
 *   outcome `cancelled`;
 * - `error`: `RUN_ERROR` with its code and message, and nothing after it;
 * - an event type it has no AG-UI event for: `CUSTOM` named `lantern.<type>`,
 *   the event whole as its value.
 *
 * @example Map a run that failed at once
 * ```ts
 * import { AguiMapper } from "./mapper.ts";
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
  type Event as AguiEvent,
  EventType,
  PROTOCOL_VERSION,
  type RunAgentInput,
  type StateSnapshotEvent,
  type TokenUsage,
} from "@ag-ui/core";
import type { ActionResult, Memory, Progress, RunEvent } from "../protocol.ts";

export type { AguiEvent };

/** The agent state Lantern shares: the project's memories. */
export interface AguiState {
  memories: Memory[];
}

/** The name of the `CUSTOM` event that carries progress AG-UI has no event for. */
export const PROGRESS_EVENT = "lantern.progress";

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
      case "action":
        return this.#action(event.action, event, timestamp);
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
        return this.#finish(timestamp, result, "success", usage);
      }
      case "cancelled":
        this.#ended = true;
        return this.#finish(timestamp, { runId: event.runId, cancelled: event.cancelled }, "cancelled");
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
      default: {
        // A type this mapper has no AG-UI event for (a newer one) travels whole as `CUSTOM` `lantern.<type>`.
        const unknown = event as RunEvent;
        return [{ type: EventType.CUSTOM, timestamp, name: `lantern.${unknown.type}`, value: unknown }];
      }
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
    return [{ type: EventType.CUSTOM, timestamp, name: PROGRESS_EVENT, value: progress }];
  }

  #action(action: ActionResult & { index: number }, event: RunEvent, timestamp: number): AguiEvent[] {
    const toolCallId = `${this.#options.lanternRunId}-tool-${action.index}`;
    return [
      {
        type: EventType.TOOL_CALL_START,
        timestamp,
        toolCallId,
        toolCallName: action.tool,
        parentMessageId: this.actionsId,
        rawEvent: event,
      },
      { type: EventType.TOOL_CALL_ARGS, timestamp, toolCallId, delta: JSON.stringify(action.args ?? {}) },
      { type: EventType.TOOL_CALL_END, timestamp, toolCallId },
      {
        type: EventType.TOOL_CALL_RESULT,
        timestamp,
        messageId: `${toolCallId}-result`,
        toolCallId,
        role: "tool",
        content: JSON.stringify({ ok: action.ok, summary: action.summary, output: action.output ?? null }),
      },
    ];
  }

  /** `RUN_FINISHED`, after closing what is open (AG-UI refuses it while a step or message is open). */
  #finish(
    timestamp: number,
    result: unknown,
    outcome: "success" | "cancelled",
    usage?: TokenUsage[],
  ): AguiEvent[] {
    return [
      ...this.#closeAll(timestamp),
      {
        type: EventType.RUN_FINISHED,
        timestamp,
        threadId: this.#options.threadId,
        runId: this.#options.runId,
        result,
        outcome: { type: outcome },
        ...(usage ? { usage } : {}),
      },
    ];
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
