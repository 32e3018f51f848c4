/**
 * The ways asking for a run can fail, as domain errors: each has a stable
 * `code` and a sentence for people. They know nothing of HTTP; the edge
 * (lib/http_error.ts) maps codes to statuses in one place.
 *
 * @example
 * ```ts
 * import { RunNotFound } from "./errors.ts";
 * const error = new RunNotFound("r1");
 * console.log(error.code, error.message); // run_not_found Run "r1" was not found in this project.
 * ```
 *
 * @module
 */

import type { RunError } from "../protocol.ts";

/** A failure a client can cause or meet, with a stable code. */
export class DomainError extends Error {
  /** A stable, machine-readable code, such as `run_not_found`. */
  readonly code: string;

  /** An error with a code and a sentence for people. */
  constructor(code: string, message: string) {
    super(message);
    this.name = "DomainError";
    this.code = code;
  }
}

/** No such run in this project. */
export class RunNotFound extends DomainError {
  /** The run `runId` is not in the project asked about. */
  constructor(runId: string) {
    super("run_not_found", `Run "${runId.slice(0, 80)}" was not found in this project.`);
  }
}

/** The project a run was to start in is gone (deleted meanwhile, maybe by another instance). */
export class ProjectGone extends DomainError {
  /** The project `projectId` no longer exists. */
  constructor(projectId: string) {
    super("project_not_found", `Project "${projectId.slice(0, 80)}" was not found.`);
  }
}

/** The run's events have expired from the log (its record stays). */
export class RunExpired extends DomainError {
  /** The log of `runId` is gone. */
  constructor(runId: string) {
    super("run_expired", `The events of run "${runId}" have expired.`);
  }
}

/** This instance is shutting down and starts nothing new. */
export class ShuttingDown extends DomainError {
  /** The instance is shutting down. */
  constructor() {
    super("shutting_down", "The server is shutting down; try again in a moment.");
  }
}

/** A run driven elsewhere could not be followed right now. */
export class RunUnavailable extends DomainError {
  /** Following `runId` failed for now. */
  constructor(runId: string) {
    super("run_unavailable", `Run "${runId}" cannot be followed right now; try again.`);
  }
}

/** The owner of a run did not confirm a cancel in time. */
export class CancelTimeout extends DomainError {
  /** Cancelling `runId` timed out. */
  constructor(runId: string) {
    super("cancel_timeout", `Run "${runId}" did not stop in time; try again.`);
  }
}

/** A run ended without an answer: its error, for callers that wait for the answer. */
export class RunFailed extends DomainError {
  /** The run's error, as its `error` event or record holds it. */
  readonly error: RunError;

  /** A run ended with `error`. */
  constructor(error: RunError) {
    super(error.code, error.message);
    this.error = error;
  }
}
