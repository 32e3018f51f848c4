/**
 * The timeline of a run, folded from its events. Pure, so the island, the
 * server-rendered page and the tests share it.
 *
 * @module
 */

import type { RunEvent, RunRecord, RunStatus } from "./protocol.ts";
import { isTerminal } from "./runs/outcome.ts";
import { type StepName, STEPS } from "./steps.ts";

/**
 * The state of one step in the timeline. `skipped` is a step that never ran
 * because the run stopped or failed before it.
 */
export type StepStatus = "pending" | "active" | "done" | "error" | "cancelled" | "skipped";

/** One item of the timeline. */
export interface TimelineStep {
  step: StepName;
  status: StepStatus;
  /** Event time (epoch ms) the step started and ended. */
  startedAt: number | null;
  endedAt: number | null;
  message: string;
  details: string;
  /** Updates reported within the step (one per tool action, retries). */
  updates: { message: string; details: string; ok?: boolean }[];
}

/** How a run ended, or that it is still going (`null`: no run yet). */
export type Outcome = "running" | "succeeded" | "failed" | "cancelled" | null;

/** The whole timeline with the answer so far and how the run ended. */
export interface Timeline {
  runId: string | null;
  lastSeq: number;
  steps: TimelineStep[];
  answer: string;
  outcome: Outcome;
  error: { code: string; message: string; step: StepName | null } | null;
  /** Event time (epoch ms) of the run's first and terminal events. */
  startedAt: number | null;
  endedAt: number | null;
}

/**
 * An empty timeline: every step pending.
 *
 * @example
 * ```ts
 * import { emptyTimeline } from "./timeline.ts";
 * console.log(emptyTimeline().steps.map((s) => s.status).join()); // pending,pending,…
 * ```
 */
export function emptyTimeline(runId: string | null = null): Timeline {
  return {
    runId,
    lastSeq: 0,
    steps: STEPS.map((step) => ({
      step,
      status: "pending",
      startedAt: null,
      endedAt: null,
      message: "",
      details: "",
      updates: [],
    })),
    answer: "",
    outcome: runId ? "running" : null,
    error: null,
    startedAt: null,
    endedAt: null,
  };
}

/**
 * Applies one event and returns the new timeline (the old one is unchanged).
 * Events at or below `lastSeq` are ignored, so a replay never doubles a step;
 * only the first terminal event of a running timeline always applies.
 *
 * @example
 * ```ts
 * import { applyEvent, emptyTimeline } from "./timeline.ts";
 * const t = applyEvent(emptyTimeline("r1"), {
 *   type: "progress", runId: "r1", seq: 1, ts: 5,
 *   progress: { step: "start", phase: "start", message: "Run started", details: "", timestamp: "", metadata: {} },
 * });
 * console.log(t.steps[0]?.status); // active
 * ```
 */
export function applyEvent(timeline: Timeline, event: RunEvent): Timeline {
  // The first terminal event ends a running timeline even with an old seq:
  // after a crash the log can be shorter than what a page already saw.
  const ends = isTerminal(event) && timeline.outcome === "running";
  if (event.seq <= timeline.lastSeq && !ends) return timeline;
  const next: Timeline = {
    ...timeline,
    lastSeq: Math.max(timeline.lastSeq, event.seq),
    runId: event.runId,
    startedAt: timeline.startedAt ?? event.ts,
  };
  const patch = (step: StepName | null, change: (s: TimelineStep) => TimelineStep) => {
    next.steps = next.steps.map((s) => (s.step === step ? change(s) : s));
  };
  switch (event.type) {
    case "progress": {
      const p = event.progress;
      next.outcome = "running";
      if (p.phase === "start") {
        patch(
          p.step,
          (s) => ({ ...s, status: "active", startedAt: event.ts, message: p.message, details: p.details }),
        );
      } else if (p.phase === "end") {
        patch(p.step, (s) => ({
          ...s,
          status: "done",
          startedAt: s.startedAt ?? event.ts,
          endedAt: event.ts,
          message: p.message,
          details: p.details || s.details,
        }));
      } else {
        patch(p.step, (s) => ({ ...s, updates: [...s.updates, { message: p.message, details: p.details }] }));
      }
      break;
    }
    case "action": {
      const a = event.action;
      const update = { message: a.summary, details: JSON.stringify(a.args), ok: a.ok };
      patch("execution", (s) => ({ ...s, updates: [...s.updates, update] }));
      break;
    }
    case "token":
      next.answer = timeline.answer + event.delta;
      break;
    case "result":
      next.outcome = "succeeded";
      next.answer = event.result.message;
      next.endedAt = event.ts;
      // An answer means every step ran, also those this timeline missed
      // (a page that fell back to polling sees only the end).
      next.steps = next.steps.map((s) =>
        s.status === "active"
          ? { ...s, status: "done", endedAt: event.ts }
          : s.status === "pending"
          ? { ...s, status: "done" }
          : s
      );
      break;
    case "error":
    case "cancelled": {
      const failed = event.type === "error";
      const info = failed ? event.error : { code: "cancelled", ...event.cancelled };
      next.outcome = failed ? "failed" : "cancelled";
      next.error = info;
      next.endedAt = event.ts;
      const at = info.step ?? next.steps.find((s) => s.status === "active")?.step ?? null;
      next.steps = next.steps.map((s) => {
        if (s.step === at || s.status === "active") {
          return {
            ...s,
            status: failed ? "error" : "cancelled",
            startedAt: s.startedAt ?? event.ts,
            endedAt: event.ts,
            message: s.step === at ? info.message : s.message,
          };
        }
        return s.status === "pending" ? { ...s, status: "skipped" } : s;
      });
      break;
    }
  }
  return next;
}

/**
 * Folds a list of events into a timeline (replays, tests, the server).
 *
 * @example
 * ```ts
 * import { foldEvents } from "./timeline.ts";
 * console.log(foldEvents([], "r1").outcome); // running
 * ```
 */
export function foldEvents(events: Iterable<RunEvent>, runId: string | null = null): Timeline {
  let timeline = emptyTimeline(runId);
  for (const event of events) timeline = applyEvent(timeline, event);
  return timeline;
}

/**
 * The timeline of a run that has ended, from its record alone: how it
 * ended, where, and how long each step took when the run succeeded (the
 * record keeps no step messages). The page shows it for the last run.
 *
 * @example
 * ```ts ignore
 * import { timelineFromRecord } from "./timeline.ts";
 * const timeline = timelineFromRecord(record);
 * console.log(timeline.outcome); // succeeded
 * ```
 */
export function timelineFromRecord(record: RunRecord): Timeline {
  const startedAt = Date.parse(record.createdAt);
  const endedAt = record.endedAt ? Date.parse(record.endedAt) : startedAt;
  const base: Timeline = { ...emptyTimeline(record.id), startedAt, endedAt };
  if (record.status === "succeeded") {
    const durations = new Map(record.result?.steps.map((s) => [s.step, s.durationMs]));
    return {
      ...base,
      outcome: "succeeded",
      answer: record.result?.message ?? "",
      steps: base.steps.map((s) => {
        const ms = durations.get(s.step);
        return { ...s, status: "done", ...(ms === undefined ? {} : { startedAt: 0, endedAt: ms }) };
      }),
    };
  }
  if (record.status === "running") return base;
  const failed = record.status !== "cancelled";
  const info = record.error ?? { code: failed ? "internal_error" : "cancelled", message: "", step: null };
  const at = info.step ? STEPS.indexOf(info.step) : -1;
  return {
    ...base,
    outcome: failed ? "failed" : "cancelled",
    error: failed ? info : { ...info, code: "cancelled" },
    steps: base.steps.map((s, i) => ({
      ...s,
      status: i < at ? "done" : i === at ? (failed ? "error" : "cancelled") : "skipped",
      message: i === at ? info.message : "",
    })),
  };
}

/**
 * The status of a run as its timeline shows it (a failure whose code is
 * `interrupted` is an interruption, as in the run's record).
 *
 * @example
 * ```ts
 * import { emptyTimeline, statusOfTimeline } from "./timeline.ts";
 * console.log(statusOfTimeline(emptyTimeline("r1"))); // running
 * ```
 */
export function statusOfTimeline(t: Timeline): RunStatus {
  return t.outcome === "failed"
    ? (t.error?.code === "interrupted" ? "interrupted" : "failed")
    : t.outcome === "succeeded" || t.outcome === "cancelled"
    ? t.outcome
    : "running";
}

/**
 * How many steps have finished (done, failed or stopped).
 *
 * @example
 * ```ts
 * import { emptyTimeline, stepsFinished } from "./timeline.ts";
 * console.log(stepsFinished(emptyTimeline("r1"))); // 0
 * ```
 */
export function stepsFinished(timeline: Timeline): number {
  return timeline.steps.filter((s) => s.status === "done" || s.status === "error" || s.status === "cancelled")
    .length;
}
