import {
  formatDuration,
  mentionsHint,
  nextStepHint,
  STEP_LABELS,
  type Timeline as TimelineState,
  type TimelineStep,
} from "../lib/timeline.ts";
import { StepIcon } from "./StepIcon.tsx";

const STATUS_TEXT: Record<TimelineStep["status"], string> = {
  pending: "Waiting",
  active: "Working",
  done: "Done",
  error: "Failed",
  cancelled: "Stopped",
  skipped: "Skipped",
};

function elapsed(step: TimelineStep, now: number): string {
  if (step.startedAt === null) return "";
  const end = step.endedAt ?? now;
  return formatDuration(end - step.startedAt);
}

/**
 * The eight steps of a run, each with its state, time, message and details.
 * `now` is the current time on the server's clock, so an active step's
 * elapsed time ticks without clock skew.
 */
export function Timeline({ timeline, now }: { timeline: TimelineState; now: number }) {
  return (
    <ol class="timeline" aria-label="Steps of the run">
      {timeline.steps.map((s) => (
        <li
          key={s.step}
          class={`step step-${s.status}`}
          data-step={s.step}
          data-status={s.status}
          aria-current={s.status === "active" ? "step" : undefined}
        >
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
            {s.status === "error" && timeline.error &&
              !mentionsHint(s.message, nextStepHint(timeline.error.code)) && (
              <p class="step-next" data-next>{nextStepHint(timeline.error.code)}</p>
            )}
            {(s.details || s.updates.length > 0) && (
              <details class="step-details">
                <summary>
                  Details<span class="visually-hidden">{` of ${STEP_LABELS[s.step]}`}</span>
                </summary>
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
