/**
 * Events shaped like Lantern's run events (progress, token, result), for the
 * baseline and stand-in servers, plus a guard that ends a bench server when
 * the harness that started it is gone.
 *
 * @module
 */

import { STEPS } from "../lib/protocol.ts";
import { nowMs } from "./stats.ts";

/** A wire event before it is serialised; `ts` is set by the caller. */
export type FakeEvent = Record<string, unknown> & {
  type: string;
  runId: string;
  seq: number;
  ts: number;
};

/** Builds the event of a run at a given seq; `total` is the run's event count. */
export interface EventBuilder {
  (seq: number): FakeEvent;
  total: number;
}

const WORDS = ["I", "will", "remember", "that", "the", "bench", "runs", "at", "noon", "."];

/**
 * Makes a builder for a run of `progress` progress events, `tokens` token
 * events and one result, in that order (seq 1..total).
 */
export function makeEventBuilder(
  runId: string,
  progress: number,
  tokens: number,
  pad = 0,
): EventBuilder {
  const padding = "x".repeat(Math.max(0, pad));
  const build = ((seq: number): FakeEvent => {
    if (seq <= progress) {
      const step = STEPS[Math.min(STEPS.length - 1, Math.floor((seq - 1) / 2))]!;
      const phase = seq % 2 === 1 ? "start" : "end";
      return {
        type: "progress",
        runId,
        seq,
        ts: 0,
        progress: {
          step,
          phase,
          message: `${step} ${phase === "start" ? "started" : "finished"}`,
          details: `Step ${step} of the run${padding}`,
          timestamp: new Date().toISOString(),
          metadata: { stepIndex: STEPS.indexOf(step) },
        },
      };
    }
    if (seq <= progress + tokens) {
      const i = seq - progress - 1;
      return { type: "token", runId, seq, ts: 0, delta: `${WORDS[i % WORDS.length]} ` };
    }
    return {
      type: "result",
      runId,
      seq,
      ts: 0,
      result: {
        runId,
        message: WORDS.join(" "),
        plan: [{ tool: "memory.add", args: { text: "the bench runs at noon" } }],
        actions: [{
          tool: "memory.add",
          args: { text: "the bench runs at noon" },
          ok: true,
          summary: "Remembered: the bench runs at noon",
          output: { id: "m1" },
          durationMs: 0.1,
        }],
        memories: { added: [], removed: [] },
        steps: STEPS.map((step) => ({ step, durationMs: 0 })),
        engine: "local",
      },
    };
  }) as EventBuilder;
  build.total = progress + tokens + 1;
  return build;
}

/**
 * Baseline settings (`BASELINE_*`) that match a Lantern run's event count and
 * size: 16 progress events, the rest tokens (at most `maxTokens`), one result,
 * progress JSON padded so the bytes per event match.
 */
export function baselineEnvFor(
  lantern: { runs: number; eventsPerRun: number; bytesPerEvent: number } | undefined,
  maxTokens = 10,
): Record<string, string> {
  if (!lantern || lantern.runs === 0 || lantern.eventsPerRun < 2) return {};
  const total = Math.max(2, Math.round(lantern.eventsPerRun));
  const tokens = Math.max(0, Math.min(maxTokens, total - 17));
  const progress = total - 1 - tokens;
  // Bytes a run of the baseline takes without padding: events + chunk framing + ~140 B of headers.
  const build = makeEventBuilder("r_0000000000000000", progress, tokens, 0);
  let bytes = 140;
  for (let seq = 1; seq <= total; seq++) {
    const event = build(seq);
    event.ts = nowMs();
    const body = `id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`.length;
    bytes += body + body.toString(16).length + 4;
  }
  const wanted = lantern.bytesPerEvent * total;
  const pad = progress > 0 ? Math.max(0, Math.round((wanted - bytes) / progress)) : 0;
  return { BASELINE_PROGRESS: String(progress), BASELINE_TOKENS: String(tokens), BASELINE_PAD: String(pad) };
}

/**
 * Calls `stop` (then exits) on SIGTERM or SIGINT. The harness also starts
 * every server under `setpriv --pdeathsig KILL`, so none outlives it.
 */
export function exitOnSignal(stop: () => Promise<void> | void): void {
  const quit = async () => {
    try {
      await Promise.race([stop(), new Promise((r) => setTimeout(r, 1000))]);
    } finally {
      Deno.exit(0);
    }
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, quit);
  }
}
