/**
 * One trace per run. A run outlives the request that started it, so it is
 * its own root span (`lantern.run`), linked to the span of that request
 * (Deno's HTTP server span, when there is one). Under it: a span per step
 * (`lantern.step.<step>`) and, under `execution`, one per tool action
 * (`lantern.tool.<tool>`). Attributes are ids, names, statuses and counts;
 * message text, answers and tool arguments only with `content: true`
 * (`LANTERN_OTEL_CONTENT=on`).
 *
 * @module
 */

import { statusOf } from "../runs/outcome.ts";
import { type Attributes, context, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import type { RunEvent, RunRecord, StepName } from "../protocol.ts";
import { lanternMetrics } from "./metrics.ts";

/** Fed every event of one run, in order. */
export interface RunObserver {
  /** `json` is the event as written to the run log, when it is. */
  onEvent(event: RunEvent, json?: string): void;
}

/** Options of {@linkcode traceRun}. */
export interface TraceOptions {
  /** Whether spans may carry the message, the answer and tool arguments. */
  content?: boolean;
}

interface OpenStep {
  span: Span;
  started: number;
}

/**
 * Starts a run's root span (call it where the run starts, inside the
 * request, so the request's span can be linked) and returns the observer
 * that builds the rest of the trace from the run's events.
 *
 * @example
 * ```ts
 * import { traceRun } from "./run_tracer.ts";
 * const record = {
 *   id: "r1", projectId: "p1", message: "Hi", status: "running", createdAt: "", endedAt: null,
 *   durationMs: null, lastSeq: 0, owner: "i1", messageId: "m1", engine: "local",
 *   result: null, error: null, usage: null,
 * } as const;
 * const run = traceRun(record);
 * run.onEvent({ type: "cancelled", runId: "r1", seq: 1, ts: 0, cancelled: { message: "Stopped", step: null } });
 * ```
 */
export function traceRun(record: RunRecord, options: TraceOptions = {}): RunObserver {
  const tracer = trace.getTracer("lantern");
  const metrics = lanternMetrics();
  const request = trace.getSpan(context.active());
  const base: Attributes = {
    "lantern.run.id": record.id,
    "lantern.project.id": record.projectId,
    "lantern.engine": record.engine,
  };
  const span = tracer.startSpan("lantern.run", {
    root: true,
    links: request ? [{ context: request.spanContext(), attributes: { "lantern.link": "started_by" } }] : [],
    attributes: {
      ...base,
      "lantern.instance.id": record.owner,
      ...(options.content ? { "lantern.message": record.message } : {}),
    },
  });
  metrics.runsStarted.add(1, { "lantern.engine": record.engine });
  const runContext = trace.setSpan(ROOT_CONTEXT, span);
  const started = performance.now();
  const steps = new Map<StepName, OpenStep>();
  let tokens = 0;
  let ended = false;

  const endStep = (step: StepName, attributes: Attributes, error?: string) => {
    const open = steps.get(step);
    if (!open) return;
    steps.delete(step);
    open.span.setAttributes(attributes);
    if (error) open.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    open.span.end();
    metrics.stepDuration.record((performance.now() - open.started) / 1000, { "lantern.step": step });
  };

  return {
    onEvent(event, json) {
      if (ended) return;
      metrics.eventsEmitted.add(1, { "lantern.event.type": event.type });
      if (json !== undefined) metrics.logBytes.add(json.length);
      if (event.type === "token") {
        tokens++;
        return;
      }
      if (event.type === "progress") {
        const { step, phase, metadata } = event.progress;
        if (phase === "start") {
          const stepSpan = tracer.startSpan(`lantern.step.${step}`, {
            attributes: { ...base, "lantern.step": step },
          }, runContext);
          steps.set(step, { span: stepSpan, started: performance.now() });
        } else if (phase === "end") {
          endStep(
            step,
            typeof metadata.durationMs === "number" ? { "lantern.duration_ms": metadata.durationMs } : {},
          );
        }
        return;
      }
      if (event.type === "action") {
        const action = event.action;
        const parent = steps.get("execution")?.span ?? span;
        const now = performance.timeOrigin + performance.now();
        const tool = tracer.startSpan(`lantern.tool.${action.tool}`, {
          startTime: now - action.durationMs,
          attributes: {
            ...base,
            "lantern.step": "execution",
            "lantern.tool.name": action.tool,
            "lantern.tool.index": action.index,
            "lantern.tool.ok": action.ok,
            ...(options.content ? { "lantern.tool.args": JSON.stringify(action.args) } : {}),
          },
        }, trace.setSpan(ROOT_CONTEXT, parent));
        if (!action.ok) tool.setStatus({ code: SpanStatusCode.ERROR, message: "The tool failed." });
        tool.end(now);
        return;
      }
      // A terminal event: close what is open, then the run.
      ended = true;
      const status = statusOf(event);
      const failedStep = event.type === "error" ? event.error.step : null;
      for (const step of [...steps.keys()]) {
        endStep(step, { "lantern.step.outcome": status }, step === failedStep ? event.type : undefined);
      }
      const attributes: Attributes = {
        "lantern.run.status": status,
        "lantern.run.events": event.seq,
        "lantern.answer.tokens": tokens,
      };
      if (event.type === "result") {
        const usage = event.result.usage;
        if (usage) {
          attributes["gen_ai.request.model"] = usage.model;
          attributes["gen_ai.usage.input_tokens"] = usage.inputTokens;
          attributes["gen_ai.usage.output_tokens"] = usage.outputTokens;
        }
        attributes["lantern.actions"] = event.result.actions.length;
        if (options.content) attributes["lantern.answer"] = event.result.message;
      }
      if (event.type === "error") {
        attributes["lantern.error.code"] = event.error.code;
        span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.code });
      }
      span.setAttributes(attributes);
      span.end();
      metrics.runsFinished.add(1, { "lantern.run.status": status });
      metrics.runDuration.record((performance.now() - started) / 1000, { "lantern.run.status": status });
    },
  };
}
