/**
 * Where the run registry reports runs: {@linkcode runStarted} where a run
 * starts, {@linkcode runEvent} for each event it emits. Each run then gets
 * its trace ({@linkcode traceRun}, when OpenTelemetry is on) and a log line
 * when it starts and when it ends. The settings are per process (one
 * Lantern per isolate): {@linkcode configureRunHooks} sets them at start-up.
 *
 * @module
 */

import type { RunEvent, RunRecord } from "../protocol.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import { type RunObserver, traceRun } from "./run_tracer.ts";

/** What the hooks do. */
export interface RunHookSettings {
  logger: Logger;
  /** Whether runs are traced (on with `OTEL_DENO=true`). */
  traces: boolean;
  /** Whether spans may carry message text. */
  content: boolean;
}

/**
 * Whether Deno exports OpenTelemetry data (`OTEL_DENO=true`).
 *
 * @example
 * ```ts
 * import { otelEnabled } from "./run_hooks.ts";
 * console.log(otelEnabled({ OTEL_DENO: "true" }), otelEnabled({})); // true false
 * ```
 */
export function otelEnabled(env: Record<string, string | undefined> = Deno.env.toObject()): boolean {
  return ["true", "1"].includes((env.OTEL_DENO ?? "").toLowerCase());
}

let settings: RunHookSettings = { logger: silentLogger, traces: false, content: false };
const observers = new Map<string, { observer: RunObserver | null; record: RunRecord; started: number }>();

/**
 * Sets what the hooks do from now on.
 *
 * @example
 * ```ts
 * import { configureRunHooks } from "./run_hooks.ts";
 * import { silentLogger } from "../ops/log.ts";
 * configureRunHooks({ logger: silentLogger, traces: false });
 * ```
 */
export function configureRunHooks(next: Partial<RunHookSettings>): void {
  settings = { ...settings, ...next };
}

/**
 * A run has started here (call inside the request that started it).
 *
 * @example
 * ```ts ignore
 * runStarted(record);
 * ```
 */
export function runStarted(record: RunRecord): void {
  const { logger, traces, content } = settings;
  if (!traces && logger.mode === "off") return;
  const observer = traces ? traceRun(record, { content }) : null;
  observers.set(record.id, { observer, record, started: performance.now() });
  logger.info("run started", {
    runId: record.id,
    projectId: record.projectId,
    engine: record.engine,
    instanceId: record.owner,
  });
}

/**
 * A run emitted an event (`json` is what the run log stores, when it does).
 *
 * @example
 * ```ts ignore
 * runEvent(event, json);
 * ```
 */
export function runEvent(event: RunEvent, json?: string): void {
  const entry = observers.get(event.runId);
  if (!entry) return;
  entry.observer?.onEvent(event, json);
  if (event.type !== "result" && event.type !== "error" && event.type !== "cancelled") return;
  observers.delete(event.runId);
  const status = event.type === "result"
    ? "succeeded"
    : event.type === "cancelled"
    ? "cancelled"
    : event.error.code === "interrupted"
    ? "interrupted"
    : "failed";
  const usage = event.type === "result" ? event.result.usage : undefined;
  settings.logger[status === "failed" ? "warn" : "info"]("run ended", {
    runId: event.runId,
    projectId: entry.record.projectId,
    status,
    durationMs: Math.round((performance.now() - entry.started) * 100) / 100,
    events: event.seq,
    errorCode: event.type === "error" ? event.error.code : undefined,
    step: event.type === "error"
      ? event.error.step
      : event.type === "cancelled"
      ? event.cancelled.step
      : undefined,
    inputTokens: usage?.inputTokens,
    outputTokens: usage?.outputTokens,
  });
}
