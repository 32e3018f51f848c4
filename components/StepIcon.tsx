import type { StepName } from "../lib/protocol.ts";

const PATHS: Record<StepName, string> = {
  start: "M8 5v14l11-7z",
  context: "M4 5h16v3H4zm0 5.5h16v3H4zM4 16h10v3H4z",
  analyzing:
    "M10 3a7 7 0 1 0 4.2 12.6l5.1 5.1 1.4-1.4-5.1-5.1A7 7 0 0 0 10 3zm0 2a5 5 0 1 1 0 10 5 5 0 0 1 0-10z",
  planning: "M5 4h2v2H5zm4 0h10v2H9zM5 11h2v2H5zm4 0h10v2H9zM5 18h2v2H5zm4 0h10v2H9z",
  validation:
    "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.9-4.9 1.4 1.4z",
  execution: "M13 2 4 14h7l-1 8 9-12h-7z",
  memory: "M6 3h12a1 1 0 0 1 1 1v17l-7-4-7 4V4a1 1 0 0 1 1-1z",
  completion: "M9.5 16.2 5.3 12l-1.4 1.4 5.6 5.6L21 7.5l-1.4-1.4z",
};

/** The icon of a step: an inline SVG, decorative. */
export function StepIcon({ step }: { step: StepName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path d={PATHS[step]} fill="currentColor" />
    </svg>
  );
}
