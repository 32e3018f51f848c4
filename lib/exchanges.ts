/**
 * The conversation as exchanges: a user's message, the run it started, and
 * its answer, grouped by the messages' `runId`. Pure view-model code shared
 * by the server-rendered page and the island.
 *
 * @module
 */

import type { Message, MessageStatus, RunRecord, RunStatus, StepName } from "./protocol.ts";
import { STEPS } from "./protocol.ts";
import { statusOfTimeline, type Timeline } from "./timeline.ts";
import { formatDuration, STEP_LABELS } from "./timeline_words.ts";

/** One exchange: the user's message, its run, and the answer (when there is one). */
export interface Exchange {
  /** Stable key: the run's id, or the message's id for a message without a run. */
  key: string;
  runId: string | null;
  user: Message | null;
  answer: Message | null;
}

/** What an exchange's folded rail needs to know about a run that is not loaded. */
export interface RunInfo {
  status: RunStatus;
  durationMs: number | null;
  /** Where a failed or stopped run ended. */
  step: StepName | null;
}

/**
 * Groups a conversation (oldest first) into exchanges, in the order of the
 * users' messages. An answer joins the exchange of its run; an answer with
 * no run joins the exchange before it.
 *
 * @example
 * ```ts
 * import { groupExchanges } from "./exchanges.ts";
 * const at = "2026-01-01T00:00:00Z";
 * const list = groupExchanges([
 *   { id: "m1", role: "user", content: "hi", runId: "r1", createdAt: at },
 *   { id: "m2", role: "user", content: "yo", runId: "r2", createdAt: at },
 *   { id: "m3", role: "assistant", content: "Hello", runId: "r1", createdAt: at },
 * ]);
 * console.log(list.map((e) => `${e.user?.content}:${e.answer?.content ?? "-"}`).join()); // hi:Hello,yo:-
 * ```
 */
export function groupExchanges(messages: readonly Message[]): Exchange[] {
  const list: Exchange[] = [];
  const byRun = new Map<string, Exchange>();
  for (const m of messages) {
    const known = m.runId ? byRun.get(m.runId) : undefined;
    if (m.role === "assistant") {
      const home = known ?? list[list.length - 1];
      if (home && !home.answer) {
        home.answer = m;
        continue;
      }
    } else if (known && !known.user) {
      known.user = m;
      continue;
    }
    const exchange: Exchange = {
      key: m.runId ?? m.id,
      runId: m.runId,
      user: m.role === "user" ? m : null,
      answer: m.role === "assistant" ? m : null,
    };
    if (m.runId && !known) byRun.set(m.runId, exchange);
    list.push(exchange);
  }
  return list;
}

/**
 * The conversation in the order of its exchanges: each user's message, then
 * the answer of its run, whatever runs overlapped (the order of
 * `GET …/messages` and of the page).
 *
 * @example
 * ```ts
 * import { inExchangeOrder } from "./exchanges.ts";
 * const at = "2026-01-01T00:00:00Z";
 * const order = inExchangeOrder([
 *   { id: "m1", role: "user", content: "hi", runId: "r1", createdAt: at },
 *   { id: "m2", role: "user", content: "yo", runId: "r2", createdAt: at },
 *   { id: "m3", role: "assistant", content: "Yo!", runId: "r2", createdAt: at },
 *   { id: "m4", role: "assistant", content: "Hello", runId: "r1", createdAt: at },
 * ]);
 * console.log(order.map((m) => m.id).join()); // m1,m4,m2,m3
 * ```
 */
export function inExchangeOrder(messages: readonly Message[]): Message[] {
  return groupExchanges(messages).flatMap((x) => [x.user, x.answer].filter((m): m is Message => m !== null));
}

/**
 * The facts of a run record that a folded rail shows.
 *
 * @example
 * ```ts ignore
 * const info = runInfo(record); // { status: "succeeded", durationMs: 1400, step: null }
 * ```
 */
export function runInfo(record: RunRecord): RunInfo {
  return { status: record.status, durationMs: record.durationMs, step: record.error?.step ?? null };
}

/** The word for how a run ended without an answer (a folded rail, an exchange's note). */
export const ENDED_LABELS: Readonly<Record<MessageStatus, string>> = {
  failed: "Failed",
  cancelled: "Stopped",
  interrupted: "Interrupted",
};

/**
 * The one line a folded rail shows: `8 steps · 1.4 s` for a run that
 * answered, where it ended otherwise.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./exchanges.ts";
 * console.log(summaryLine({ status: "succeeded", durationMs: 1400, step: null })); // 8 steps · 1.4 s
 * console.log(summaryLine({ status: "cancelled", durationMs: 300, step: "planning" })); // Stopped at Planning · 300 ms
 * ```
 */
export function summaryLine(info: RunInfo): string {
  const time = info.durationMs === null ? "" : ` · ${formatDuration(info.durationMs)}`;
  if (info.status === "succeeded") return `${STEPS.length} steps${time}`;
  if (info.status === "running") return "Working";
  const where = info.step ? ` at ${STEP_LABELS[info.step]}` : "";
  return `${ENDED_LABELS[info.status as MessageStatus] ?? "Ended"}${where}${time}`;
}

/**
 * A timeline's facts in the shape of {@linkcode RunInfo} (for its summary line).
 *
 * @example
 * ```ts
 * import { infoOfTimeline } from "./exchanges.ts";
 * import { emptyTimeline } from "./timeline.ts";
 * console.log(infoOfTimeline(emptyTimeline("r1")).status); // running
 * ```
 */
export function infoOfTimeline(t: Timeline): RunInfo {
  const durationMs = t.startedAt !== null && t.endedAt !== null ? t.endedAt - t.startedAt : null;
  const where = t.steps.find((s) => s.status === "error" || s.status === "cancelled");
  return { status: statusOfTimeline(t), durationMs, step: t.error?.step ?? where?.step ?? null };
}
