/**
 * The island's runs: one timeline per run, folded from its events as they
 * arrive (events of several runs can share one stream), the followers that
 * bring them, the connection they report, and the server's clock as the
 * events tell it. A Preact hook; the view only reads its signals.
 *
 * @module
 */

import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { RunEvent, RunRecord, RunStarted } from "../protocol.ts";
import { endingOfRecord, isTerminal, type TerminalEvent } from "../runs/outcome.ts";
import { applyEvent, emptyTimeline, type Timeline } from "../timeline.ts";
import { urls } from "../urls.ts";
import { infoOfTimeline, type RunInfo } from "../exchanges.ts";
import { api, ApiError, pause } from "./api.ts";
import { type ConnectionState, RunFollower } from "./run_follower.ts";

/** What {@linkcode useRuns} starts from and reports to. */
export interface RunsOptions {
  projectId: string;
  /** The instance that rendered the page: another one answering later means a restart. */
  instance: string;
  /** The timelines the server rendered. */
  timelines: Record<string, Timeline>;
  /** What the records say of every run in the conversation. */
  infos: Record<string, RunInfo>;
  /** Runs still going when the page was rendered: followed on from their timeline's last event. */
  live: RunStarted[];
  /** An event changed a run's timeline. */
  onChange(event: RunEvent): void;
  /** A run ended. */
  onEnd(event: TerminalEvent): void;
  /** The server answered: notices about the network are over. */
  onReachable(): void;
}

/** The signals and actions {@linkcode useRuns} gives the view. */
export interface Runs {
  timelines: Signal<Record<string, Timeline>>;
  infos: Signal<Record<string, RunInfo>>;
  connection: Signal<ConnectionState>;
  /** Another instance answered than the one that rendered the page. */
  restarted: Signal<boolean>;
  /** Now on the server's clock, as far as the events tell it. */
  serverNow(): number;
  /** Shows a run that just started (an empty timeline) and follows it. */
  follow(started: RunStarted): void;
  /** Applies one event (also the island's own, such as a lost run). */
  apply(event: RunEvent): void;
}

/**
 * Follows the runs of one project page. See the module docs.
 *
 * @example
 * ```ts ignore
 * const runs = useRuns({ projectId, instance, timelines, infos, live, onChange, onEnd, onReachable });
 * runs.follow(started);
 * ```
 */
export function useRuns(options: RunsOptions): Runs {
  const { projectId } = options;
  const timelines = useSignal(options.timelines);
  const infos = useSignal(options.infos);
  const connection = useSignal<ConnectionState>(options.live.length ? "connecting" : "idle");
  const restarted = useSignal(false);
  const followers = useRef(new Map<string, RunFollower>());
  /** Browser clock minus server clock, at most: the smallest (receipt − ts) seen. */
  const clockOffset = useRef(Number.POSITIVE_INFINITY);
  // The latest callbacks, so followers started earlier call the view of now.
  const handlers = useRef(options);
  handlers.current = options;

  const serverNow = () => Date.now() - (Number.isFinite(clockOffset.current) ? clockOffset.current : 0);

  function apply(event: RunEvent) {
    clockOffset.current = Math.min(clockOffset.current, Date.now() - event.ts);
    const before = timelines.value[event.runId] ?? emptyTimeline(event.runId);
    const after = applyEvent(before, event);
    if (after === before) return;
    timelines.value = { ...timelines.value, [event.runId]: after };
    handlers.current.onChange(event);
    if (!isTerminal(event)) return;
    // The folded line of this exchange, once it is no longer the latest.
    infos.value = { ...infos.value, [event.runId]: infoOfTimeline(after) };
    followers.current.get(event.runId)?.stop();
    followers.current.delete(event.runId);
    handlers.current.onEnd(event as TerminalEvent);
  }

  /**
   * When event streams cannot be followed: wait for the run's record, then
   * end the timeline with the terminal event the record stands for.
   */
  async function waitForRecord(runId: string) {
    const url = `${urls.run(projectId, runId)}?wait=25`;
    for (let i = 0; i < 60; i++) {
      const asked = Date.now();
      try {
        const record = await api<RunRecord>(url);
        if (record.status !== "running") {
          connection.value = "idle";
          apply(endingOfRecord(record, timelines.value[runId]?.lastSeq ?? 0));
          return;
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) break;
      }
      // A server without long polling answers at once: do not hammer it.
      if (Date.now() - asked < 1000) await pause(1000);
    }
    connection.value = "idle";
    apply({
      type: "error",
      runId,
      seq: (timelines.value[runId]?.lastSeq ?? 0) + 1,
      ts: serverNow(),
      error: {
        code: "lost",
        message: "Lost track of this run. Reload the page to see where it stands.",
        step: null,
      },
    });
  }

  function attach(started: RunStarted) {
    const { runId } = started;
    followers.current.get(runId)?.stop();
    const f = new RunFollower(started.eventsUrl, urls.run(projectId, runId), {
      onEvent: apply,
      onState: (state) => {
        connection.value = state;
        if (state === "live") handlers.current.onReachable();
      },
      onServer: (instance) => restarted.value = instance !== handlers.current.instance,
      onBlocked: () => waitForRecord(runId),
      onEnded: () => waitForRecord(runId),
    });
    followers.current.set(runId, f);
    // From where the server-rendered timeline is: no replay of what shows.
    f.start(timelines.value[runId]?.lastSeq ?? 0);
  }

  useEffect(() => {
    for (const started of options.live) attach(started);
    const current = followers.current;
    return () => {
      for (const f of current.values()) f.stop();
    };
  }, []);

  return {
    timelines,
    infos,
    connection,
    restarted,
    serverNow,
    apply,
    follow(started) {
      timelines.value = { ...timelines.value, [started.runId]: emptyTimeline(started.runId) };
      attach(started);
    },
  };
}
