/**
 * OpenTelemetry: Lantern runs as a child process with Deno's built-in OTel
 * (`OTEL_DENO=true`) exporting OTLP/HTTP (JSON encoding) to a receiver this
 * test starts; one run's trace must have the shape the README promises.
 */

import assert from "node:assert/strict";
import { STEPS } from "../lib/protocol.ts";
import { chatStream, collectRunEvents, createProject, spawnServer } from "./helpers.ts";
import { eventually } from "./runs_helpers.ts";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}
interface OtlpMetric {
  name: string;
  sum?: {
    dataPoints: {
      attributes?: { key: string; value: OtlpValue }[];
      asInt?: string | number;
      asDouble?: number;
    }[];
  };
  histogram?: { dataPoints: { count: string | number; attributes?: { key: string; value: OtlpValue }[] }[] };
}

function attr(span: { attributes?: { key: string; value: OtlpValue }[] }, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
    value.boolValue ?? value.doubleValue;
}

/** A minimal OTLP/HTTP receiver: keeps every span and metric it is sent. */
function startReceiver() {
  const spans: OtlpSpan[] = [];
  const metrics: OtlpMetric[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.json();
    if (path === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
    } else if (path === "/v1/metrics") {
      for (const rm of body.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) metrics.push(...(sm.metrics ?? []));
      }
    }
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, spans, metrics, close: () => server.shutdown() };
}

Deno.test("otel: one run is one trace: a root span linked to its request, a span per step and per tool", async () => {
  const receiver = startReceiver();
  const child = await spawnServer({
    OTEL_DENO: "true",
    OTEL_SERVICE_NAME: "lantern-test",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_METRIC_EXPORT_INTERVAL: "500",
  });
  try {
    const project = await createProject(child.url);
    const secret = "the launch is on May 3";
    const events = await collectRunEvents(await chatStream(child.url, project.id, `Remember that ${secret}`));
    const result = events.at(-1);
    assert.equal(result?.type, "result");
    const runId = result.runId;

    const root = await eventually(
      "the run's root span",
      () => receiver.spans.find((s) => s.name === "lantern.run" && attr(s, "lantern.run.id") === runId),
    );
    assert.equal(root.parentSpanId ?? "", "", "the run is its own root");
    assert.equal(attr(root, "lantern.project.id"), project.id);
    assert.equal(attr(root, "lantern.engine"), "local");

    const inTrace = () => receiver.spans.filter((s) => s.traceId === root.traceId);
    const steps = await eventually("a span for each of the eight steps", () => {
      const found = inTrace().filter((s) => s.name.startsWith("lantern.step."));
      return found.length >= STEPS.length ? found : undefined;
    });
    assert.deepEqual(steps.map((s) => s.name.slice("lantern.step.".length)).sort(), [...STEPS].sort());
    for (const step of steps) {
      assert.equal(step.parentSpanId, root.spanId, `${step.name} hangs from the run`);
      assert.equal(attr(step, "lantern.run.id"), runId);
    }
    const execution = steps.find((s) => s.name === "lantern.step.execution")!;
    const tool = inTrace().find((s) => s.name === "lantern.tool.save_memory");
    assert.ok(tool, "a span for the save_memory action");
    assert.equal(tool.parentSpanId, execution.spanId);
    assert.equal(attr(tool, "lantern.tool.ok"), true);

    // Attributes land on the root when the run ends (spans are exported once ended).
    assert.equal(attr(root, "lantern.run.status"), "succeeded");
    assert.equal(attr(root, "lantern.run.events"), result.seq);

    // The link points at the HTTP span of the request that started the run.
    const link = root.links?.[0];
    assert.ok(link, "the run links to its request");
    const request = await eventually(
      "the request's span",
      () => receiver.spans.find((s) => s.spanId === link.spanId && s.traceId === link.traceId),
    );
    assert.notEqual(request.traceId, root.traceId);
    assert.match(request.name, /POST/);

    // No message text anywhere by default.
    const text = JSON.stringify(inTrace());
    assert.ok(!text.includes(secret), "no span carries the message text");

    const metric = (name: string) => receiver.metrics.filter((m) => m.name === name);
    await eventually(
      "a finished-run count of status succeeded",
      () =>
        metric("lantern.runs.finished").some((m) =>
          m.sum?.dataPoints.some((p) =>
            attr(p, "lantern.run.status") === "succeeded" && Number(p.asInt ?? p.asDouble) >= 1
          )
        ) || undefined,
    );
    for (
      const name of [
        "lantern.runs.started",
        "lantern.run.duration",
        "lantern.step.duration",
        "lantern.events.emitted",
        "lantern.run_log.bytes",
        "lantern.kv.commit.duration",
        "lantern.streams.open",
      ]
    ) {
      assert.ok(metric(name).length > 0, `metric ${name} was exported`);
    }
    const steps_ = metric("lantern.step.duration").flatMap((m) => m.histogram?.dataPoints ?? []);
    assert.deepEqual(
      [...new Set(steps_.map((p) => attr(p, "lantern.step")))].sort(),
      [...STEPS].sort(),
      "a step duration for every step",
    );
  } finally {
    await child.kill();
    await receiver.close();
  }
});

Deno.test("otel: LANTERN_OTEL_CONTENT=on puts the message and the answer on the run's span", async () => {
  const receiver = startReceiver();
  const child = await spawnServer({
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    LANTERN_OTEL_CONTENT: "on",
  });
  try {
    const project = await createProject(child.url);
    const events = await collectRunEvents(
      await chatStream(child.url, project.id, "Remember that tea is at 4"),
    );
    const runId = events.at(-1)!.runId;
    const root = await eventually(
      "the run's root span",
      () => receiver.spans.find((s) => s.name === "lantern.run" && attr(s, "lantern.run.id") === runId),
    );
    assert.equal(attr(root, "lantern.message"), "Remember that tea is at 4");
    assert.match(String(attr(root, "lantern.answer")), /tea is at 4/i);
    const tool = await eventually(
      "the tool's span",
      () => receiver.spans.find((s) => s.traceId === root.traceId && s.name === "lantern.tool.save_memory"),
    );
    assert.match(String(attr(tool, "lantern.tool.args")), /tea is at 4/i);
  } finally {
    await child.kill();
    await receiver.close();
  }
});
