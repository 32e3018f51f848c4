/**
 * The one table of steps: their order, their names for people, and what a
 * step says as it starts. The agent runs them in this order, the timeline
 * and the page count and label them from it, so adding a step starts here.
 *
 * @example
 * ```ts
 * import { STEP_TABLE, STEPS } from "./steps.ts";
 * console.log(STEPS.length, STEP_TABLE.planning.label); // 8 Planning
 * ```
 *
 * @module
 */

/** The steps of a run, in the order they always happen. */
export const STEPS = [
  "start",
  "context",
  "analyzing",
  "planning",
  "validation",
  "execution",
  "memory",
  "completion",
] as const;

/** One of the {@linkcode STEPS}. */
export type StepName = typeof STEPS[number];

/** What the page and the agent say about a step. */
export interface StepInfo {
  /** The step's name for people. */
  label: string;
  /** What the step's `start` event says. */
  starting: string;
}

/** Every step's words, keyed by name. */
export const STEP_TABLE: Readonly<Record<StepName, StepInfo>> = {
  start: { label: "Start", starting: "Run started" },
  context: { label: "Context", starting: "Loading conversation and memories" },
  analyzing: { label: "Analyzing", starting: "Working out what you want" },
  planning: { label: "Planning", starting: "Making a plan" },
  validation: { label: "Validation", starting: "Checking the plan" },
  execution: { label: "Execution", starting: "Running the plan" },
  memory: { label: "Memory", starting: "Updating the project's memory" },
  completion: { label: "Completion", starting: "Writing the answer" },
};
