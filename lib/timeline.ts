/**
 * The timeline of a run, folded from its events. Pure, so the island, the
 * server-rendered page and the tests share it.
 *
 * @module
 */

import { type RunEvent, type StepName, STEPS } from "./protocol.ts";

/** The state of one step in the timeline. */
export type StepStatus = "pending" | "active" | "done" | "error" | "cancelled";

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

/** The whole timeline with the answer so far and how the run ended. */
export interface Timeline {
  runId: string | null;
  lastSeq: number;
  steps: TimelineStep[];
  answer: string;
  outcome: "running" | "succeeded" | "failed" | "cancelled" | null;
  error: { code: string; message: string; step: StepName | null } | null;
}

/** Human names of the steps. */
export const STEP_LABELS: Record<StepName, string> = {
  start: "Start",
  context: "Context",
  analyzing: "Analyzing",
  planning: "Planning",
  validation: "Validation",
  execution: "Execution",
  memory: "Memory",
  completion: "Completion",
};

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
  };
}

/**
 * Applies one event and returns the new timeline (the old one is unchanged).
 * Events at or below `lastSeq` are ignored, so a replay never doubles a step.
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
  if (event.seq <= timeline.lastSeq) return timeline;
  const next: Timeline = { ...timeline, lastSeq: event.seq, runId: event.runId };
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
        const ok = typeof p.metadata.ok === "boolean" ? p.metadata.ok : undefined;
        patch(
          p.step,
          (s) => ({ ...s, updates: [...s.updates, { message: p.message, details: p.details, ok }] }),
        );
      }
      break;
    }
    case "token":
      next.answer = timeline.answer + event.delta;
      break;
    case "result":
      next.outcome = "succeeded";
      next.answer = event.result.message;
      break;
    case "error":
    case "cancelled": {
      const failed = event.type === "error";
      const info = failed ? event.error : { code: "cancelled", ...event.cancelled };
      next.outcome = failed ? "failed" : "cancelled";
      next.error = info;
      const at = info.step ?? next.steps.find((s) => s.status === "active")?.step ?? null;
      patch(at, (s) => ({
        ...s,
        status: failed ? "error" : "cancelled",
        endedAt: event.ts,
        message: info.message,
      }));
      break;
    }
  }
  return next;
}
