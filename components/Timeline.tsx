import { STEP_LABELS, type Timeline as TimelineState, type TimelineStep } from "../lib/timeline.ts";
import { StepIcon } from "./StepIcon.tsx";

const STATUS_TEXT: Record<TimelineStep["status"], string> = {
  pending: "Waiting",
  active: "Working",
  done: "Done",
  error: "Failed",
  cancelled: "Stopped",
};

function elapsed(step: TimelineStep, now: number): string {
  if (step.startedAt === null) return "";
  const end = step.endedAt ?? now;
  const ms = Math.max(0, end - step.startedAt);
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The eight steps of a run, each with its state, time, message and details. */
export function Timeline({ timeline, now }: { timeline: TimelineState; now: number }) {
  return (
    <ol class="timeline" aria-label="Run progress">
      {timeline.steps.map((s) => (
        <li key={s.step} class={`step step-${s.status}`} data-step={s.step} data-status={s.status}>
          <span class="step-icon">
            <StepIcon step={s.step} />
          </span>
          <div class="step-body">
            <div class="step-head">
              <span class="step-name">{STEP_LABELS[s.step]}</span>
              <span class="step-state">{STATUS_TEXT[s.status]}</span>
              <span class="step-time" data-elapsed>{elapsed(s, now)}</span>
            </div>
            {s.message && <p class="step-message">{s.message}</p>}
            {(s.details || s.updates.length > 0) && (
              <details class="step-details">
                <summary>Details</summary>
                {s.details && <pre>{s.details}</pre>}
                {s.updates.length > 0 && (
                  <ul class="step-updates">
                    {s.updates.map((u, i) => (
                      <li key={i} class={u.ok === false ? "update-failed" : undefined} data-update>
                        {u.message}
                        {u.details && <code>{u.details}</code>}
                      </li>
                    ))}
                  </ul>
                )}
              </details>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
