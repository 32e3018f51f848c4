/**
 * Lantern's wire protocol and record shapes, declared once and shared by the
 * server, the island and the tests.
 *
 * A run emits {@linkcode RunEvent}s. On the wire each one is a Server-Sent
 * Event with `id: <seq>` and a single `data:` line holding the JSON.
 *
 * @example Narrow an event by its type
 * ```ts
 * import type { RunEvent } from "./protocol.ts";
 *
 * const event: RunEvent = { type: "token", runId: "r1", seq: 3, ts: 1, delta: "Hi" };
 * if (event.type === "token") console.log(event.delta); // Hi
 * ```
 *
 * @module
 */

/**
 * The version of the wire protocol, announced in the `Lantern-Protocol`
 * header of event streams and in the `start` step's first event
 * (`metadata.protocol`). Version 2 added the `action` event.
 */
export const PROTOCOL_VERSION = 2;

/** The header that announces {@linkcode PROTOCOL_VERSION}. */
export const PROTOCOL_HEADER = "lantern-protocol";

export { STEPS } from "./steps.ts";
export type { StepName } from "./steps.ts";
import type { StepName } from "./steps.ts";

/**
 * Where a progress event sits in its step: `start` opens it, `end` closes it,
 * `update` reports something in between (one tool action, a retry).
 */
export type ProgressPhase = "start" | "update" | "end";

/** The payload of a `progress` event. */
export interface Progress {
  step: StepName;
  phase: ProgressPhase;
  message: string;
  details: string;
  /** ISO 8601 time the event was emitted. */
  timestamp: string;
  metadata: Record<string, unknown>;
}

/** One action of a plan: a tool and its arguments. */
export interface PlanAction {
  /** Set by engines that plan with tool calls; echoed in results. */
  id?: string;
  tool: string;
  args: Record<string, unknown>;
  /**
   * Why the engine chose this action, as one short sentence for a person
   * (the local engine: the words that chose it and what it read in them).
   * Optional: an engine may not say.
   */
  why?: string;
}

/** A plan action after it ran: the payload of an `action` event (with its `index` in the plan). */
export interface ActionResult extends PlanAction {
  ok: boolean;
  /** A short, human-readable outcome. */
  summary: string;
  /** The tool's structured output (cut to `LANTERN_MAX_TOOL_OUTPUT_CHARS` when `truncated`). */
  output: unknown;
  /** Present (true) when `output` was cut short; the whole output is at `fullUrl`. */
  truncated?: boolean;
  /** Where the whole output is served from KV: `GET …/runs/:runId/actions/:index/output`. */
  fullUrl?: string;
  durationMs: number;
}

/** Token counts reported by a model-backed engine. */
export interface Usage {
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/** What a finished run returns: the body of `/chat` and of the `result` event. */
export interface ChatResult {
  runId: string;
  /** The assistant's answer (Markdown). */
  message: string;
  plan: PlanAction[];
  actions: ActionResult[];
  memories: { added: Memory[]; removed: Memory[] };
  steps: { step: StepName; durationMs: number }[];
  engine: string;
  usage?: Usage;
  /** Set when the answer reached LANTERN_MAX_ANSWER_CHARS: `message` is the kept part and a sentence saying so. */
  truncated?: true;
}

/** The payload of an `error` event and of a failed run's record. */
export interface RunError {
  code: string;
  message: string;
  step: StepName | null;
}

/** The payload of a `cancelled` event. */
export interface RunCancelled {
  message: string;
  step: StepName | null;
}

/** An event before the run registry stamps it with `runId`, `seq` and `ts`. */
export type AgentEvent =
  | { type: "progress"; progress: Progress }
  | { type: "action"; action: ActionResult & { index: number } }
  | { type: "token"; delta: string }
  | { type: "result"; result: ChatResult }
  | { type: "error"; error: RunError }
  | { type: "cancelled"; cancelled: RunCancelled };

/** The fields every event on the wire carries. */
export interface EventStamp {
  runId: string;
  /** 1, 2, 3… without gaps within a run. */
  seq: number;
  /** Epoch milliseconds, with a sub-millisecond fraction, when emitted. */
  ts: number;
}

/** An event as it travels on the wire and sits in the run log. */
export type RunEvent = AgentEvent & EventStamp;

/** A project: the container of a conversation and a memory. */
export interface Project {
  id: string;
  name: string;
  createdAt: string;
}

/** Why a user's message did not get an answer, when it did not. */
export type MessageStatus = "cancelled" | "interrupted" | "failed";

/** One entry of a project's conversation. */
export interface Message {
  id: string;
  role: "user" | "assistant";
  content: string;
  runId: string | null;
  createdAt: string;
  /** Set on a user message whose run ended without an answer. */
  status?: MessageStatus;
}

/** One thing a project remembers. */
export interface Memory {
  id: string;
  text: string;
  /** `user` when added through the API or page, `agent` when a run saved it. */
  source: "user" | "agent";
  createdAt: string;
  runId?: string;
  /** What the fact is about, as a key ("launch"); absent on memories saved before subjects existed. */
  subject?: string;
  /** The id of the memory that replaced this one; null (or absent) while it is current. */
  supersededBy?: string | null;
}

/** The states of a run. */
export type RunStatus =
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled"
  | "interrupted";

/** A run's record, as `GET /api/projects/:id/runs/:runId` returns it. */
export interface RunRecord {
  id: string;
  projectId: string;
  message: string;
  status: RunStatus;
  createdAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** The seq of the last event in the log. */
  lastSeq: number;
  /** The instance that drives the run. */
  owner: string;
  /** The user's message in the conversation. */
  messageId: string;
  engine: string;
  result: ChatResult | null;
  error: RunError | null;
  usage: Usage | null;
}

/** The body of `POST /api/projects/:id/runs`. */
export interface RunStarted {
  runId: string;
  eventsUrl: string;
  cancelUrl: string;
}

/** Every error response: `{"error":{"code","message"}}`. */
/**
 * What happens in a project or in the project list, as its feed tells it
 * (`GET /api/projects/:id/events`, `GET /api/events`). Types have a dot, so
 * they never clash with a run event's type on the same stream.
 */
export type FeedChange =
  /** A run started: its user's message is in `message.added` of the same commit. */
  | { type: "run.started"; run: { runId: string; messageId: string; message: string; eventsUrl: string } }
  | { type: "run.ended"; runId: string; status: RunStatus }
  /** `truncated` when the content was cut to fit (the messages API has it whole). */
  | { type: "message.added"; message: Message & { truncated?: true } }
  | { type: "memory.added"; memory: Memory }
  /** A memory left the current ones: forgotten, or superseded by a newer fact. */
  | { type: "memory.removed"; memoryId: string; reason: "forgotten" | "superseded" }
  | { type: "project.created"; project: Project }
  | { type: "project.renamed"; project: Project }
  | { type: "project.deleted"; projectId: string }
  /** The feed cannot replay from where the client was (too old): read the state again. */
  | { type: "feed.reset"; message: string };

/** A change as a feed stores and sends it: numbered within its feed, stamped with the server's clock. */
export type FeedEvent = FeedChange & { seq: number; ts: number };

/** The types of {@linkcode FeedChange}. */
export type FeedEventType = FeedChange["type"];

export interface ErrorBody {
  error: { code: string; message: string };
}
