/**
 * What the run log keeps of an event it could not take (see
 * lib/runs/log_writer.ts): a short `progress` update at the same seq, so the
 * log has no hole and a replay says what happened.
 *
 * @module
 */

import type { LogEntry } from "./run_log.ts";

/** What an event that could not be logged is logged as: a short update, at its seq (small enough to always fit). */
export const STAND_IN_MESSAGE = "This event could not be saved: the run log refused it.";

/** The step an event belongs to, for events that do not name one. */
const STEP_OF_TYPE: Record<string, string> = { token: "completion", action: "execution" };

/**
 * A stand-in for an event the log could not take: a progress update, at the
 * same seq and time, of the event's step (`previous`, the step of the event
 * before it, when the event names none), saying so.
 *
 * @example
 * ```ts
 * import { standIn } from "./stand_in.ts";
 * const json = '{"type":"token","runId":"r1","seq":4,"ts":1,"delta":"hi"}';
 * const { step, json: out } = standIn("r1", { seq: 4, json }, null);
 * console.log(step, JSON.parse(out).progress.phase); // completion update
 * ```
 */
export function standIn(
  runId: string,
  entry: LogEntry,
  previous: string | null,
): LogEntry & { step: string } {
  let step = previous ?? "start";
  let ts = Date.now();
  try {
    const event = JSON.parse(entry.json) as { type?: string; ts?: number; progress?: { step?: string } };
    step = event.progress?.step ?? STEP_OF_TYPE[event.type ?? ""] ?? step;
    ts = event.ts ?? ts;
  } catch {
    // The JSON itself is what failed: the stand-in says so without it.
  }
  const event = {
    type: "progress",
    runId,
    seq: entry.seq,
    ts,
    progress: {
      step,
      phase: "update",
      message: STAND_IN_MESSAGE,
      details: "",
      timestamp: new Date(ts).toISOString(),
      metadata: { logWriteFailed: true },
    },
  };
  return { seq: entry.seq, json: JSON.stringify(event), step };
}
