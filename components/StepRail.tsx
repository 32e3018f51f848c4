import type { JSX } from "preact";
import { infoOfTimeline, type RunInfo, summaryLine } from "../lib/exchanges.ts";
import { STEPS } from "../lib/protocol.ts";
import type { Timeline, TimelineStep } from "../lib/timeline.ts";
import {
  formatDuration,
  mentionsHint,
  nextStepHint,
  STEP_LABELS,
  withoutRepeatedReasons,
} from "../lib/timeline_words.ts";

const STATUS_TEXT: Record<TimelineStep["status"], string> = {
  pending: "waiting",
  active: "working",
  done: "done",
  error: "failed",
  cancelled: "stopped",
  skipped: "skipped",
};

function elapsed(step: TimelineStep, now: number): string {
  if (step.startedAt === null) return "";
  return formatDuration((step.endedAt ?? now) - step.startedAt);
}

/** What the rail of one exchange shows. */
export interface StepRailProps {
  runId: string;
  /** The run's steps, when this page has them (the latest run, or one the person expanded). */
  timeline: Timeline | null;
  /** The run's record facts, for a folded rail without a timeline. */
  info: RunInfo | null;
  /** Whether the per-step list is open. */
  open: boolean;
  /** Now on the server's clock, so an active step's time ticks without skew. */
  now: number;
  /** Where the toggle goes without JavaScript (the page with this run's steps open). */
  href: string;
  onToggle?: (event: Event) => void;
  /** The connection's state, shown on a live rail. */
  connection?: JSX.Element | null;
}

/**
 * The compact step rail of one exchange: a segment per step (live while the
 * run goes), one line on what happens now, then, when the run is over, a
 * one-line summary ("8 steps · 1.4 s") that opens the list of steps with
 * their messages, details and actions.
 */
export function StepRail({ runId, timeline, info, open, now, href, onToggle, connection }: StepRailProps) {
  const t = timeline;
  const running = t?.outcome === "running";
  const active = t?.steps.find((s) => s.status === "active");
  const facts = t ? infoOfTimeline(t) : info;
  const done = t ? t.steps.filter((s) => s.status === "done").length : 0;
  const line = running
    ? `Step ${Math.min(done + 1, STEPS.length)} of ${STEPS.length}`
    : facts
    ? summaryLine(facts)
    : "Steps";
  const listId = `steps-${runId}`;
  return (
    <div
      class={`rail${running ? " rail-live" : ""}`}
      data-rail={running ? "live" : "done"}
      data-outcome={t?.outcome ?? undefined}
    >
      {t && (
        <ol class="rail-bar" aria-label="Steps of the run">
          {t.steps.map((s) => {
            const said = `${STEP_LABELS[s.step]}: ${STATUS_TEXT[s.status]}`;
            return (
              <li
                key={s.step}
                class={`seg seg-${s.status}`}
                data-step={s.step}
                data-status={s.status}
                aria-current={s.status === "active" ? "step" : undefined}
                title={said}
              >
                <span class="visually-hidden">{said}</span>
              </li>
            );
          })}
        </ol>
      )}
      <div class="rail-line">
        {running
          ? (
            <p class="rail-now" data-now>
              <span class="rail-step">{active ? STEP_LABELS[active.step] : "Starting"}</span>
              {active?.message && <span class="rail-msg">{active.message}</span>}
              {active && <span class="rail-time" data-elapsed>{elapsed(active, now)}</span>}
            </p>
          )
          : null}
        {connection}
        <a
          class="rail-toggle"
          href={href}
          role="button"
          aria-expanded={open ? "true" : "false"}
          aria-controls={open ? listId : undefined}
          onClick={onToggle}
          data-toggle-steps
        >
          <span data-summary>{line}</span>
          <svg class="chev" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.8" />
          </svg>
          <span class="visually-hidden">{open ? " (hide the steps)" : " (show the steps)"}</span>
        </a>
      </div>
      {open && t && <StepList id={listId} timeline={t} now={now} />}
    </div>
  );
}

/** Every step of a run with its time, message, details and actions. */
function StepList({ id, timeline, now }: { id: string; timeline: Timeline; now: number }) {
  return (
    <ol class="step-list" id={id} aria-label="Steps in detail">
      {timeline.steps.map((s, i) => {
        // A reason shows once, under the step that made the plan.
        const details = withoutRepeatedReasons(s.details, timeline.steps.slice(0, i).map((e) => e.details));
        return (
          <li key={s.step} class={`step step-${s.status}`} data-step-detail={s.step}>
            <span class="step-icon" data-icon={s.step} aria-hidden="true" />
            <div class="step-body">
              <p class="step-head">
                <span class="step-name">{STEP_LABELS[s.step]}</span>
                {s.status !== "done" && <span class="step-state">{STATUS_TEXT[s.status]}</span>}
                <span class="step-time">{elapsed(s, now)}</span>
              </p>
              {s.message && <p class="step-message">{s.message}</p>}
              {s.status === "error" && timeline.error &&
                !mentionsHint(s.message, nextStepHint(timeline.error.code)) && (
                <p class="step-next" data-next>{nextStepHint(timeline.error.code)}</p>
              )}
              {details && <pre class="step-details">{details}</pre>}
              {s.updates.length > 0 && (
                <ul class="step-updates">
                  {s.updates.map((u, n) => (
                    <li key={n} class={u.ok === false ? "update-failed" : undefined} data-update>
                      {u.message}
                      {u.details && <code>{u.details}</code>}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
