/**
 * Lantern's metrics, made once from the global meter. Without
 * `OTEL_DENO=true` the meter is a no-op and recording costs next to nothing.
 *
 * | Name                                | Kind          | Attributes            |
 * | ----------------------------------- | ------------- | --------------------- |
 * | `lantern.runs.started`              | counter       | `lantern.engine`      |
 * | `lantern.runs.finished`             | counter       | `lantern.run.status`  |
 * | `lantern.run.duration`              | histogram, s  | `lantern.run.status`  |
 * | `lantern.step.duration`             | histogram, s  | `lantern.step`        |
 * | `lantern.events.emitted`            | counter       | `lantern.event.type`  |
 * | `lantern.run_log.bytes`             | counter, By   |                       |
 * | `lantern.kv.commit.duration`        | histogram, s  | `lantern.kv.ok`       |
 * | `lantern.streams.open`              | gauge         |                       |
 * | `lantern.runs.live`                 | gauge         |                       |
 * | `lantern.feeds.remote`              | gauge         |                       |
 *
 * @module
 */

import { type Counter, type Histogram, metrics } from "@opentelemetry/api";

/** The instruments the run observer and the KV wrapper record into. */
export interface LanternMetrics {
  runsStarted: Counter;
  runsFinished: Counter;
  runDuration: Histogram;
  stepDuration: Histogram;
  eventsEmitted: Counter;
  logBytes: Counter;
  kvCommit: Histogram;
}

let made: LanternMetrics | null = null;

/**
 * The instruments (made on first use).
 *
 * @example
 * ```ts
 * import { lanternMetrics } from "./metrics.ts";
 * lanternMetrics().runsStarted.add(1, { "lantern.engine": "local" });
 * ```
 */
export function lanternMetrics(): LanternMetrics {
  if (made) return made;
  const meter = metrics.getMeter("lantern");
  made = {
    runsStarted: meter.createCounter("lantern.runs.started", { description: "Runs started here." }),
    runsFinished: meter.createCounter("lantern.runs.finished", { description: "Runs ended, by status." }),
    runDuration: meter.createHistogram("lantern.run.duration", { unit: "s", description: "Run duration." }),
    stepDuration: meter.createHistogram("lantern.step.duration", {
      unit: "s",
      description: "Step duration.",
    }),
    eventsEmitted: meter.createCounter("lantern.events.emitted", { description: "Run events emitted." }),
    logBytes: meter.createCounter("lantern.run_log.bytes", {
      unit: "By",
      description: "Bytes of run events written to the KV log.",
    }),
    kvCommit: meter.createHistogram("lantern.kv.commit.duration", {
      unit: "s",
      description: "Latency of KV atomic commits.",
    }),
  };
  return made;
}

/** What the gauges read, sampled at each export. */
export interface GaugeSource {
  stats(): { streams: number; liveRuns: number; remoteRuns: number };
}

/**
 * Registers the gauges over `source` (the run registry); returns a function
 * that removes them.
 *
 * @example
 * ```ts
 * import { observeGauges } from "./metrics.ts";
 * const stop = observeGauges({ stats: () => ({ streams: 0, liveRuns: 0, remoteRuns: 0 }) });
 * stop();
 * ```
 */
export function observeGauges(source: GaugeSource): () => void {
  const meter = metrics.getMeter("lantern");
  const streams = meter.createObservableUpDownCounter("lantern.streams.open", {
    description: "Event streams open on this instance.",
  });
  const live = meter.createObservableUpDownCounter("lantern.runs.live", {
    description: "Runs this instance holds in memory.",
  });
  const remote = meter.createObservableUpDownCounter("lantern.feeds.remote", {
    description: "Runs of other instances followed here (one KV watch each).",
  });
  const callback = (result: import("@opentelemetry/api").BatchObservableResult) => {
    const stats = source.stats();
    result.observe(streams, stats.streams);
    result.observe(live, stats.liveRuns);
    result.observe(remote, stats.remoteRuns);
  };
  meter.addBatchObservableCallback(callback, [streams, live, remote]);
  return () => meter.removeBatchObservableCallback(callback, [streams, live, remote]);
}
