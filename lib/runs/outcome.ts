/**
 * How a run ends, in one place: which events end a run, the status each
 * stands for, what the run's record and the user's message become, the
 * words people read, and the event a finished record stands for. Pure and
 * free of Deno APIs, so the server, the island and the tests share it.
 *
 * @example
 * ```ts
 * import { endings, statusOf } from "./outcome.ts";
 * const event = endings.interrupted("memory");
 * console.log(event.type, statusOf(event)); // error interrupted
 * ```
 *
 * @module
 */

import type {
  AgentEvent,
  ChatResult,
  MessageStatus,
  RunError,
  RunEvent,
  RunRecord,
  RunStatus,
  StepName,
} from "../protocol.ts";

/** An event that ends a run, before it is stamped. */
export type Ending = Extract<AgentEvent, { type: "result" | "error" | "cancelled" }>;

/** An event that ends a run, as it travels. */
export type TerminalEvent = Extract<RunEvent, { type: "result" | "error" | "cancelled" }>;

/** What people read when a run ends without an answer. */
export const ENDING_WORDS = {
  cancelled: "Stopped before it finished.",
  interrupted: "The server stopped before this run finished. Send your message again.",
  internal: "The run ended without an answer. Please try again.",
  logFailed: "The run could not be saved, so it was stopped. Send your message again.",
} as const;

/**
 * Whether an event ends its run.
 *
 * @example
 * ```ts
 * import { isTerminal } from "./outcome.ts";
 * console.log(isTerminal({ type: "token" }), isTerminal({ type: "cancelled" })); // false true
 * ```
 */
export function isTerminal(event: { type: string }): boolean {
  return event.type === "result" || event.type === "error" || event.type === "cancelled";
}

/** The endings a run can be given from outside the agent. */
export const endings = {
  /** The run was stopped (a cancel). */
  cancelled: (step: StepName | null): Ending => ({
    type: "cancelled",
    cancelled: { message: ENDING_WORDS.cancelled, step },
  }),
  /** The server stopped (shut down or crashed) before the run finished. */
  interrupted: (step: StepName | null): Ending => ({
    type: "error",
    error: { code: "interrupted", message: ENDING_WORDS.interrupted, step },
  }),
  /** The agent stopped without an ending of its own. */
  internal: (step: StepName | null): Ending => ({
    type: "error",
    error: { code: "internal_error", message: ENDING_WORDS.internal, step },
  }),
  /** The run took longer than `limitMs`, the most a run may take. */
  timeout: (step: StepName | null, limitMs: number): Ending => ({
    type: "error",
    error: {
      code: "run_timeout",
      message: `The run took longer than ${limitMs} ms, the most a run may take (LANTERN_MAX_RUN_MS), ` +
        "so it was stopped. Send a smaller request.",
      step,
    },
  }),
  /** The run's events or result could not be saved. */
  logFailed: (step: StepName | null): Ending => ({
    type: "error",
    error: { code: "log_write_failed", message: ENDING_WORDS.logFailed, step },
  }),
} as const;

/**
 * The status a terminal event gives its run.
 *
 * @example
 * ```ts
 * import { statusOf } from "./outcome.ts";
 * console.log(statusOf({ type: "error", error: { code: "invalid_plan", message: "", step: null } })); // failed
 * ```
 */
export function statusOf(event: Ending): Exclude<RunStatus, "running"> {
  if (event.type === "result") return "succeeded";
  if (event.type === "cancelled") return "cancelled";
  return event.error.code === "interrupted" ? "interrupted" : "failed";
}

/**
 * The error a run ended with, in the record's shape (a stop is recorded as
 * the code `cancelled`); null for a run that succeeded.
 *
 * @example
 * ```ts
 * import { endings, errorOf } from "./outcome.ts";
 * console.log(errorOf(endings.cancelled("planning"))?.code); // cancelled
 * ```
 */
export function errorOf(event: Ending): RunError | null {
  if (event.type === "error") return event.error;
  if (event.type === "cancelled") {
    return { code: "cancelled", message: event.cancelled.message, step: event.cancelled.step };
  }
  return null;
}

/**
 * The record of a run after its terminal event: status, error, result and
 * usage set; the caller sets the times.
 *
 * @example
 * ```ts
 * import { endings, settledRecord } from "./outcome.ts";
 * import type { RunRecord } from "../protocol.ts";
 * const running = { status: "running", lastSeq: 3 } as RunRecord;
 * console.log(settledRecord(running, endings.cancelled(null), 4).status); // cancelled
 * ```
 */
export function settledRecord(record: RunRecord, event: Ending, seq: number): RunRecord {
  const result: ChatResult | null = event.type === "result" ? event.result : null;
  return {
    ...record,
    status: statusOf(event),
    lastSeq: seq,
    result,
    usage: result?.usage ?? null,
    error: errorOf(event),
  };
}

/**
 * The mark a user's message gets when its run ended without an answer, or
 * null when it got one.
 *
 * @example
 * ```ts
 * import { messageStatusOf } from "./outcome.ts";
 * console.log(messageStatusOf("interrupted"), messageStatusOf("succeeded")); // interrupted null
 * ```
 */
export function messageStatusOf(status: RunStatus): MessageStatus | null {
  if (status === "succeeded" || status === "running") return null;
  return status;
}

/**
 * The terminal event a finished run's record stands for, stamped after
 * `lastSeq` (for a page that learns how a run ended from its record).
 *
 * @example
 * ```ts
 * import { endingOfRecord } from "./outcome.ts";
 * import type { RunRecord } from "../protocol.ts";
 * const record = { id: "r1", status: "cancelled", lastSeq: 5, endedAt: null, result: null, error: null } as unknown as RunRecord;
 * console.log(endingOfRecord(record, 5).type); // cancelled
 * ```
 */
export function endingOfRecord(record: RunRecord, lastSeq: number): TerminalEvent {
  const stamp = {
    runId: record.id,
    seq: Math.max(record.lastSeq, lastSeq + 1),
    ts: record.endedAt ? Date.parse(record.endedAt) : Date.now(),
  };
  if (record.status === "succeeded" && record.result) {
    return { ...stamp, type: "result", result: record.result };
  }
  if (record.status === "cancelled") {
    return { ...stamp, ...endings.cancelled(record.error?.step ?? null) } as TerminalEvent;
  }
  const error = record.error ?? { code: "internal_error", message: ENDING_WORDS.internal, step: null };
  return { ...stamp, type: "error", error } as TerminalEvent;
}
