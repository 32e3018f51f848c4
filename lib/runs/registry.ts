/**
 * The run registry: every run is a durable object. The instance that starts a
 * run drives the agent, hands each event to its live followers from memory at
 * once, and appends it to the run's log in KV in the background (several
 * events per atomic write while a write is in flight). Any instance can
 * follow a run (from memory here, or from the log and a KV `watch`
 * elsewhere), cancel it (a KV inbox reaches the owner), and finish what a
 * dead instance left running (marked `interrupted`).
 *
 * @module
 */

import { runAgent } from "../agent/run_agent.ts";
import type { Engine } from "../agent/engine.ts";
import { HttpError } from "../http_error.ts";
import { newId } from "../ids.ts";
import {
  type AgentEvent,
  type Message,
  type Project,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type StepName,
} from "../protocol.ts";
import { isoNow, listValues, type Stores } from "../store/mod.ts";
import { encodeFrame, RunFeed } from "./feed.ts";
import { followerStats } from "./follow.ts";
import { type LogEntry, type LogHead, PART_CHARS, RunLog } from "./run_log.ts";
// ops hook (issue 17): traces, metrics and run log lines observe every run.
import { runEvent, runStarted } from "../telemetry/run_hooks.ts";

/** Options of a {@linkcode RunRegistry}. */
export interface RegistryOptions {
  stores: Stores;
  engine: Engine;
  /** How long a run's log is kept (ms). */
  runTtlMs: number;
  /** How long this instance's lease lasts without renewal (ms). */
  leaseMs: number;
  /** Whether events are appended to the KV log (on by default). */
  durableLog?: boolean;
  /**
   * How long a finished run stays in memory for late followers (ms); never
   * longer than `runTtlMs`, so an expired run answers 410 here too.
   */
  retainMs?: number;
  /**
   * Events a feed holds in memory before the oldest (already in the log) are
   * dropped; followers behind them are served from the KV log.
   */
  maxEventsInMemory?: number;
  /** How long a cancel from another instance waits for the owner (ms). */
  cancelTimeoutMs?: number;
}

/** A run this instance drives. */
interface LiveRun {
  record: RunRecord;
  userMessage: Message;
  feed: RunFeed;
  controller: AbortController;
  step: StepName | null;
  pending: LogEntry[];
  /** Set while the run has events not yet in the log; resolves when they are. */
  flushing: Promise<void> | null;
  flushed: (() => void) | null;
  committedSeq: number;
  /** When the log counts as expired: the TTL after the first write. */
  logExpiresAt: number | null;
  /** Resolves once the terminal event and the final record are written. */
  finished: PromiseWithResolvers<void>;
  /** Resolves once the agent has unwound and a stopped run is tidied up. */
  unwound: Promise<void> | null;
  started: number;
}

/** A run driven elsewhere, followed here through the log and a watch. */
interface RemoteRun {
  feed: RunFeed;
  record: RunRecord;
  /** Whether the watch stopped (the feed is then done). */
  stopped: boolean;
  stop: () => void;
}

const CANCEL = "cancel";
/** KV allows 1,000 mutations and about 800 KiB per atomic commit; stay below. */
const MAX_MUTATIONS = 900;
const MAX_COMMIT_CHARS = 400_000;
const SHUTDOWN = "shutdown";
/** How long cancel requests wait in KV for an owner that never reads them. */
const CANCEL_EXPIRE_MS = 60_000;
/** How long a stopped run's agent gets to unwind before the run is tidied up anyway. */
const UNWIND_MS = 5_000;
const STATUS_OF: Record<string, RunStatus> = {
  result: "succeeded",
  error: "failed",
  cancelled: "cancelled",
};

function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Starts, follows, cancels and recovers runs. See the module docs.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "./registry.ts";
 * import { createStores } from "../store/mod.ts";
 * import { LocalEngine } from "../agent/local_engine.ts";
 * import { followEvents } from "./follow.ts";
 *
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const runs = new RunRegistry({ stores, engine: new LocalEngine(), runTtlMs: 60_000, leaseMs: 10_000 });
 * await runs.init();
 * const project = await stores.projects.create("Demo");
 * const run = await runs.start(project, "Remember that tea is at 4");
 * const { feed, release } = await runs.open(project.id, run.id);
 * for await (const event of followEvents(feed, 0)) if (event.type === "result") console.log(event.result.message);
 * release();
 * await runs.close(0);
 * stores.kv.close();
 * ```
 */
export class RunRegistry {
  /** This instance's id; runs it drives name it as their owner. */
  readonly instanceId: string = newId();
  readonly log: RunLog;
  #kv: Deno.Kv;
  #stores: Stores;
  #engine: Engine;
  #leaseMs: number;
  #durable: boolean;
  #retainMs: number;
  #maxInMemory: number;
  #cancelTimeoutMs: number;
  #live = new Map<string, LiveRun>();
  /** Runs with events waiting for the log writer, and the writer itself. */
  #dirty = new Set<LiveRun>();
  #writing: Promise<void> | null = null;
  #remote = new Map<string, RemoteRun>();
  /** Remote follows being set up, so concurrent opens share one watch. */
  #opening = new Map<string, Promise<RemoteRun>>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #leaseTimer: ReturnType<typeof setInterval> | undefined;
  #inbox: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;
  #watches = 0;
  #shutdown = new AbortController();

  /** A registry; call {@linkcode RunRegistry.init} before use. */
  constructor(options: RegistryOptions) {
    this.#stores = options.stores;
    this.#kv = options.stores.kv;
    this.#engine = options.engine;
    this.#leaseMs = options.leaseMs;
    this.#durable = options.durableLog ?? true;
    this.#retainMs = Math.min(options.retainMs ?? 60_000, options.runTtlMs);
    this.#maxInMemory = Math.max(2, options.maxEventsInMemory ?? 4096);
    this.#cancelTimeoutMs = options.cancelTimeoutMs ?? 5_000;
    this.log = new RunLog(this.#kv, options.runTtlMs);
  }

  /** Aborts when the registry shuts down: followers then say goodbye. */
  get shutdownSignal(): AbortSignal {
    return this.#shutdown.signal;
  }

  /** The engine that drives runs here. */
  get engine(): Engine {
    return this.#engine;
  }

  /**
   * Takes this instance's lease, listens for cancels sent to it, and marks
   * runs whose owner is gone as interrupted.
   */
  async init(): Promise<void> {
    await this.#renewLease();
    this.#listenForCancels();
    await this.sweep();
    this.#leaseTimer = setInterval(() => {
      this.#renewLease().then(() => this.sweep()).catch((error) => {
        if (!this.#shutdown.signal.aborted) console.error("Lease renewal failed:", error);
      });
    }, Math.max(50, Math.floor(this.#leaseMs / 3)));
    // The lease lives as long as something else (the server) keeps the process
    // up: `deno serve` stops on SIGTERM only once no timer holds it.
    Deno.unrefTimer(this.#leaseTimer);
  }

  /** Starts a run at once and returns its record. */
  async start(project: Project, message: string): Promise<RunRecord> {
    if (this.#shutdown.signal.aborted) {
      throw new HttpError(503, "shutting_down", "The server is shutting down; try again in a moment.");
    }
    const runId = newId();
    const userMessage = this.#stores.messages.build({ role: "user", content: message, runId });
    const record: RunRecord = {
      id: runId,
      projectId: project.id,
      message,
      status: "running",
      createdAt: isoNow(),
      endedAt: null,
      durationMs: null,
      lastSeq: 0,
      owner: this.instanceId,
      messageId: userMessage.id,
      engine: this.#engine.name,
      result: null,
      error: null,
      usage: null,
    };
    await this.#kv.atomic()
      .set(["runs", project.id, runId], record)
      .set(["running", runId], { projectId: project.id, owner: this.instanceId })
      .set(this.#stores.messages.key(project.id, userMessage.id), userMessage)
      .commit();
    const live: LiveRun = {
      record,
      userMessage,
      feed: new RunFeed(runId, project.id),
      controller: new AbortController(),
      step: null,
      pending: [],
      flushing: null,
      flushed: null,
      committedSeq: 0,
      logExpiresAt: null,
      finished: Promise.withResolvers<void>(),
      unwound: null,
      started: performance.now(),
    };
    if (this.#durable) live.feed.backfill = (after, upTo) => this.log.read(runId, after, upTo);
    this.#live.set(runId, live);
    runStarted(record); // ops hook (issue 17): inside the request, so its span is linked.
    this.#drive(live, project);
    return { ...record };
  }

  /** A run's record, or null when the project has no such run. */
  async get(projectId: string, runId: string): Promise<RunRecord | null> {
    const live = this.#live.get(runId);
    if (live) {
      return live.record.projectId === projectId ? { ...live.record, lastSeq: live.feed.lastSeq } : null;
    }
    return (await this.#kv.get<RunRecord>(["runs", projectId, runId])).value;
  }

  /** A project's runs, newest first. */
  async list(projectId: string, limit = 100): Promise<RunRecord[]> {
    const stored = await listValues<RunRecord>(this.#kv, ["runs", projectId], {
      reverse: true,
      limit,
    });
    return stored.map((r) => {
      const live = this.#live.get(r.id);
      return live ? { ...live.record, lastSeq: live.feed.lastSeq } : r;
    });
  }

  /**
   * The feed of a run, wherever it is driven. Call `release` when done so a
   * remote run's watch can stop. Throws a 404 {@linkcode HttpError} for an
   * unknown run and a 410 when its log has expired.
   */
  async open(projectId: string, runId: string): Promise<{ feed: RunFeed; release: () => void }> {
    const live = this.#live.get(runId);
    if (live) {
      if (live.record.projectId !== projectId) throw notFound(runId);
      return { feed: live.feed, release: () => {} };
    }
    const remote = this.#remote.get(runId);
    if (remote && !remote.stopped && remote.record.projectId === projectId) return this.#hold(runId, remote);
    const record = (await this.#kv.get<RunRecord>(["runs", projectId, runId])).value;
    if (!record) throw notFound(runId);
    const head = await this.log.head(runId);
    if (!head) {
      if (record.status !== "running") {
        throw new HttpError(410, "run_expired", `The events of run "${runId}" have expired.`);
      }
      // A run with no log yet (the owner has not written): follow it anyway.
    }
    // Concurrent opens of the same run share one follow (and one watch): a
    // second one would replace the first in #remote, whose watch would leak.
    for (let attempt = 0; attempt < 3; attempt++) {
      const again = this.#remote.get(runId);
      if (again && !again.stopped) return this.#hold(runId, again);
      let opening = this.#opening.get(runId);
      if (!opening) {
        opening = this.#follow(record).finally(() => this.#opening.delete(runId));
        this.#opening.set(runId, opening);
      }
      const created = await opening;
      // A follow whose watch already stopped is still good if its run ended.
      if (!created.stopped || created.feed.ended) return this.#hold(runId, created);
    }
    throw new HttpError(503, "run_unavailable", `Run "${runId}" cannot be followed right now; try again.`);
  }

  /**
   * Waits up to `timeoutMs` for a running run to end, then resolves with its
   * record (null for an unknown run): the long-poll behind
   * `GET /runs/:runId?wait=N`. Stops early when `signal` aborts.
   */
  async waitForRecord(
    projectId: string,
    runId: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RunRecord | null> {
    const record = await this.get(projectId, runId);
    if (!record || record.status !== "running" || timeoutMs <= 0) return record;
    let opened: { feed: RunFeed; release: () => void };
    try {
      opened = await this.open(projectId, runId);
    } catch (error) {
      if (error instanceof HttpError) return record;
      throw error;
    }
    const { feed, release } = opened;
    const stop = AbortSignal.any([this.#shutdown.signal, ...(signal ? [signal] : [])]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiting: { cancel: () => void } | null = null;
    const onStop = () => waiting?.cancel();
    stop.addEventListener("abort", onStop, { once: true });
    try {
      let timedOut = false;
      timer = setTimeout(() => {
        timedOut = true;
        waiting?.cancel();
      }, timeoutMs);
      while (!feed.done && !timedOut && !stop.aborted) {
        const wait = feed.wait();
        waiting = wait;
        await wait.promise;
        waiting = null;
      }
    } finally {
      clearTimeout(timer);
      waiting?.cancel();
      stop.removeEventListener("abort", onStop);
      release();
    }
    // A remote run's record is written in the same commit as its terminal event.
    return await this.get(projectId, runId) ?? record;
  }

  /**
   * Stops a run and resolves with its final record. A run driven elsewhere is
   * stopped through its owner's inbox. Idempotent: a finished run answers with
   * its final record.
   */
  async cancel(projectId: string, runId: string): Promise<RunRecord> {
    const live = this.#live.get(runId);
    if (live) {
      if (live.record.projectId !== projectId) throw notFound(runId);
      if (!live.feed.done) live.controller.abort(CANCEL);
      await live.finished.promise;
      return { ...live.record, lastSeq: live.feed.lastSeq };
    }
    const record = (await this.#kv.get<RunRecord>(["runs", projectId, runId])).value;
    if (!record) throw notFound(runId);
    if (record.status !== "running") return record;
    if (!(await this.#ownerAlive(record.owner))) {
      // Null when someone else ended it first: read what they wrote.
      return (await this.#interrupt(record)) ??
        (await this.#kv.get<RunRecord>(["runs", projectId, runId])).value ?? record;
    }
    await this.#kv.atomic()
      .set(["cancel", record.owner, runId], { projectId, at: Date.now() }, { expireIn: CANCEL_EXPIRE_MS })
      .set(["inbox", record.owner], { runId, at: Date.now() }, { expireIn: CANCEL_EXPIRE_MS })
      .commit();
    // Follow it like any remote run (one shared watch) until its owner ends it.
    const final = (await this.waitForRecord(projectId, runId, this.#cancelTimeoutMs)) ?? record;
    if (final.status === "running") {
      throw new HttpError(504, "cancel_timeout", `Run "${runId}" did not stop in time; try again.`);
    }
    return final;
  }

  /** Marks runs whose owner's lease has lapsed as interrupted. */
  async sweep(): Promise<number> {
    let count = 0;
    const owners = new Map<string, boolean>();
    for await (const entry of this.#kv.list<{ projectId: string; owner: string }>({ prefix: ["running"] })) {
      const runId = entry.key[1] as string;
      const { projectId, owner } = entry.value;
      if (owner === this.instanceId) continue;
      let alive = owners.get(owner);
      if (alive === undefined) owners.set(owner, alive = await this.#ownerAlive(owner));
      if (alive) continue;
      const record = (await this.#kv.get<RunRecord>(["runs", projectId, runId])).value;
      if (!record) {
        await this.#kv.delete(entry.key);
        continue;
      }
      if (await this.#interrupt(record)) count++;
    }
    return count;
  }

  /** What the registry holds open, for tests and stats. */
  stats(): {
    liveRuns: number;
    running: number;
    remoteRuns: number;
    watches: number;
    streams: number;
    streamTimers: number;
    timers: number;
  } {
    return {
      liveRuns: this.#live.size,
      running: [...this.#live.values()].filter((r) => !r.feed.done).length,
      remoteRuns: this.#remote.size,
      watches: this.#watches,
      streams: followerStats.streams,
      streamTimers: followerStats.timers,
      timers: this.#timers.size,
    };
  }

  /**
   * Shuts down: followers get a final comment, runs get `graceMs` to finish
   * and are then marked interrupted, the lease is released.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#shutdown.signal.aborted) return;
    this.#shutdown.abort();
    clearInterval(this.#leaseTimer);
    const running = [...this.#live.values()].filter((r) => !r.feed.done);
    if (running.length > 0 && graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(running.map((r) => r.finished.promise)),
        new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    for (const run of running) if (!run.feed.done) run.controller.abort(SHUTDOWN);
    await Promise.all(running.map((r) => r.finished.promise));
    await Promise.all([...this.#live.values()].map((r) => r.flushing));
    await Promise.all([...this.#live.values()].map((r) => r.unwound));
    for (const opening of [...this.#opening.values()]) await opening.catch(() => {});
    for (const remote of this.#remote.values()) remote.stop();
    this.#remote.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#live.clear();
    await this.#inbox?.cancel().catch(() => {});
    this.#inbox = null;
    await this.#kv.delete(["instances", this.instanceId]).catch(() => {});
  }

  // --- driving a run -------------------------------------------------------

  async #drive(live: LiveRun, project: Project): Promise<void> {
    const signal = live.controller.signal;
    const aborted = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    const iterator = runAgent({
      runId: live.record.id,
      project,
      userMessage: live.userMessage,
      stores: this.#stores,
      engine: this.#engine,
      signal,
    });
    try {
      while (true) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === "aborted" || next.done) break;
        this.#emit(live, next.value);
        if (live.feed.done) break;
      }
    } catch (error) {
      if (!signal.aborted) console.error(`Run ${live.record.id} stopped on an error:`, error);
    }
    if (!live.feed.done) {
      if (signal.reason === SHUTDOWN) {
        this.#emit(live, {
          type: "error",
          error: {
            code: "interrupted",
            message: "The server shut down before this run finished. Send your message again.",
            step: live.step,
          },
        });
      } else if (signal.aborted) {
        this.#emit(live, {
          type: "cancelled",
          cancelled: { message: "Stopped before it finished.", step: live.step },
        });
      } else {
        this.#emit(live, {
          type: "error",
          error: {
            code: "internal_error",
            message: "The run ended without an answer. Please try again.",
            step: live.step,
          },
        });
      }
    }
    // Let the agent unwind (it stops at its next await) without holding up the
    // terminal event. A stopped run may have raced its reply into the
    // conversation (the abort won while the reply was being written): once the
    // agent is still, remove it, so a stopped run never leaves an answer.
    if (!signal.aborted) live.controller.abort(CANCEL);
    const unwinding = iterator.return(undefined).then(() => {}, () => {});
    if (live.record.status !== "succeeded") {
      live.unwound = (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([unwinding, new Promise((resolve) => timer = setTimeout(resolve, UNWIND_MS))]);
        clearTimeout(timer);
        await live.flushing;
        const op = this.#kv.atomic();
        const stray = await this.#strayReplies(live.record);
        for (const key of stray) op.delete(key);
        if (stray.length > 0) await op.commit().catch(() => {});
      })().catch((error) => console.error(`Run ${live.record.id}: tidying up failed:`, error));
    }
  }

  /** Keys of assistant replies of a run (which should not exist unless it succeeded). */
  async #strayReplies(record: RunRecord): Promise<Deno.KvKey[]> {
    const keys: Deno.KvKey[] = [];
    const prefix = ["messages", record.projectId];
    // Replies are written after the user's message, and message ids sort by time.
    const iter = this.#kv.list<Message>({
      prefix,
      start: this.#stores.messages.key(record.projectId, record.messageId),
    }, { limit: 500 });
    for await (const entry of iter) {
      if (entry.value.role === "assistant" && entry.value.runId === record.id) keys.push(entry.key);
    }
    return keys;
  }

  #emit(live: LiveRun, body: AgentEvent): void {
    const feed = live.feed;
    // Stamp fields first so the JSON reads type, runId, seq, ts, payload.
    const { type, ...payload } = body;
    const event = { type, runId: feed.runId, seq: feed.lastSeq + 1, ts: now(), ...payload } as RunEvent;
    if (event.type === "progress") live.step = event.progress.step;
    const json = JSON.stringify(event);
    runEvent(event, this.#durable ? json : undefined); // ops hook (issue 17)
    feed.push(event, encodeFrame(event, json));
    if (feed.done) this.#settle(live, event);
    if (this.#durable) {
      live.pending.push({ seq: event.seq, json });
      if (!live.flushing) {
        const { promise, resolve } = Promise.withResolvers<void>();
        live.flushing = promise;
        live.flushed = resolve;
      }
      this.#dirty.add(live);
      this.#writing ??= this.#write();
    } else if (feed.done) {
      live.flushing = this.#commitFinal(live);
    }
  }

  /** Updates the in-memory record when the terminal event is emitted. */
  #settle(live: LiveRun, event: RunEvent): void {
    const record = live.record;
    record.status = STATUS_OF[event.type] ?? "failed";
    if (event.type === "error" && event.error.code === "interrupted") record.status = "interrupted";
    record.endedAt = isoNow();
    record.durationMs = Number((performance.now() - live.started).toFixed(3));
    record.lastSeq = event.seq;
    if (event.type === "result") {
      record.result = event.result;
      record.usage = event.result.usage ?? null;
    }
    if (event.type === "error") record.error = event.error;
    if (event.type === "cancelled") {
      record.error = { code: "cancelled", message: event.cancelled.message, step: event.cancelled.step };
    }
  }

  /**
   * Writes pending events of every run to the log. One writer per registry
   * groups all runs' events into each atomic commit (up to KV's limits), so
   * under load the number of commits, each waiting on the disk, does not
   * grow with the number of runs. While a commit is in flight, new events
   * gather for the next one; the agent never waits for any of it.
   */
  async #write(): Promise<void> {
    while (this.#dirty.size > 0) {
      const op = this.#kv.atomic();
      let mutations = 0;
      let size = 0;
      const taken: { live: LiveRun; count: number; done: boolean }[] = [];
      for (const live of this.#dirty) {
        let count = 0;
        let runMutations = 4; // the head, and the final record's writes
        while (count < live.pending.length) {
          const entry = live.pending[count]!;
          const parts = Math.max(1, Math.ceil(entry.json.length / PART_CHARS));
          const fits = mutations + runMutations + parts <= MAX_MUTATIONS &&
            size + entry.json.length <= MAX_COMMIT_CHARS;
          // An entry too large for any batch still goes, alone in its commit.
          if (!fits && (count > 0 || taken.length > 0)) break;
          runMutations += parts;
          size += entry.json.length;
          count++;
        }
        if (count === 0) break;
        mutations += runMutations;
        const batch = live.pending.slice(0, count);
        const done = live.feed.done && batch.at(-1)!.seq === live.feed.lastSeq;
        live.logExpiresAt ??= Date.now() + this.log.ttlMs;
        this.log.append(op, live.record.id, batch, done, live.logExpiresAt);
        if (done) this.#finalMutations(op, live);
        taken.push({ live, count, done });
      }
      for (let attempt = 1;; attempt++) {
        try {
          await op.commit();
          break;
        } catch (error) {
          if (attempt >= 5) {
            console.error(`The run log write failed ${attempt} times:`, error);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
        }
      }
      for (const { live, count, done } of taken) {
        const last = live.pending[count - 1]!;
        live.pending.splice(0, count);
        live.committedSeq = last.seq;
        if (live.feed.events.length > this.#maxInMemory) {
          live.feed.trim(Math.min(live.committedSeq, live.feed.lastSeq - this.#maxInMemory / 2));
        }
        if (live.pending.length === 0) {
          this.#dirty.delete(live);
          live.flushing = null;
          live.flushed?.();
          live.flushed = null;
        }
        if (done) this.#finish(live);
      }
    }
    this.#writing = null;
  }

  /** Without a log, the final record is still written. */
  async #commitFinal(live: LiveRun): Promise<void> {
    const op = this.#kv.atomic();
    this.#finalMutations(op, live);
    await op.commit().catch((error) => console.error(`Run ${live.record.id}: final write failed:`, error));
    live.flushing = null;
    this.#finish(live);
  }

  #finalMutations(op: Deno.AtomicOperation, live: LiveRun): void {
    const { record, userMessage } = live;
    op.set(["runs", record.projectId, record.id], record);
    op.delete(["running", record.id]);
    if (record.status !== "succeeded") {
      const status = record.status === "interrupted"
        ? "interrupted"
        : record.status === "cancelled"
        ? "cancelled"
        : "failed";
      op.set(this.#stores.messages.key(record.projectId, userMessage.id), { ...userMessage, status });
    }
  }

  /** The run is terminal and saved: release waiters, drop it from memory later. */
  #finish(live: LiveRun): void {
    live.finished.resolve();
    if (this.#shutdown.signal.aborted) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#live.delete(live.record.id);
    }, this.#retainMs);
    Deno.unrefTimer(timer);
    this.#timers.add(timer);
  }

  // --- following runs driven elsewhere ------------------------------------

  #hold(runId: string, remote: RemoteRun): { feed: RunFeed; release: () => void } {
    let released = false;
    remote.feed.followers++;
    return {
      feed: remote.feed,
      release: () => {
        if (released) return;
        released = true;
        remote.feed.followers--;
        // followers also counts in-flight followEvents/followFrames; stop when none.
        queueMicrotask(() => {
          if (remote.feed.followers <= 0 && this.#remote.get(runId) === remote) {
            remote.stop();
            this.#remote.delete(runId);
          }
        });
      },
    };
  }

  async #follow(record: RunRecord): Promise<RemoteRun> {
    const runId = record.id;
    const feed = new RunFeed(runId, record.projectId);
    feed.backfill = (after, upTo) => this.log.read(runId, after, upTo);
    // Only the tail goes to memory; followers from further back read the log.
    const head = await this.log.head(runId);
    feed.base = feed.lastSeq = Math.max(0, (head?.lastSeq ?? 0) - this.#maxInMemory);
    for (const event of await this.log.read(runId, feed.lastSeq)) feed.push(event);
    let stopped = false;
    let reader: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;
    const timers: { liveness?: ReturnType<typeof setInterval> } = {};
    const remote: RemoteRun = {
      feed,
      record,
      stopped: false,
      stop: () => {
        if (stopped) return;
        stopped = remote.stopped = true;
        clearInterval(timers.liveness);
        if (reader) {
          this.#watches--;
          reader.cancel().catch(() => {});
        }
        if (!feed.done) feed.close();
      },
    };
    if (feed.done || record.status !== "running") {
      if (!feed.done) feed.close();
      return remote;
    }
    this.#remote.set(runId, remote);
    reader = this.#kv.watch([this.log.headKey(runId)]).getReader();
    this.#watches++;
    (async () => {
      try {
        while (!stopped) {
          const { done } = await reader!.read();
          if (done || stopped) break;
          for (const event of await this.log.read(runId, feed.lastSeq)) {
            if (event.seq === feed.lastSeq + 1) feed.push(event);
          }
          // Everything here is in the log already: keep memory bounded.
          if (feed.events.length > this.#maxInMemory) feed.trim(feed.lastSeq - this.#maxInMemory / 2);
          if (feed.done) break;
        }
      } catch (error) {
        if (!stopped) console.error(`Watching run ${runId} failed:`, error);
      } finally {
        if (this.#remote.get(runId) === remote) {
          remote.stop();
          if (feed.followers <= 0) this.#remote.delete(runId);
        }
      }
    })();
    // If the owner dies, nobody else will end the run: check its lease.
    timers.liveness = setInterval(async () => {
      if (stopped || feed.done) return;
      try {
        if (!(await this.#ownerAlive(record.owner))) await this.#interrupt(record);
      } catch (error) {
        if (!stopped && !this.#shutdown.signal.aborted) console.error(`Checking run ${runId} failed:`, error);
      }
    }, this.#leaseMs);
    Deno.unrefTimer(timers.liveness);
    return remote;
  }

  // --- leases, orphans and cancels ------------------------------------------

  async #renewLease(): Promise<void> {
    await this.#kv.set(["instances", this.instanceId], { expiresAt: Date.now() + this.#leaseMs }, {
      expireIn: this.#leaseMs * 3,
    });
  }

  async #ownerAlive(owner: string): Promise<boolean> {
    if (owner === this.instanceId) return !this.#shutdown.signal.aborted;
    const lease = (await this.#kv.get<{ expiresAt: number }>(["instances", owner])).value;
    return lease !== null && lease.expiresAt > Date.now();
  }

  /** Ends an orphaned run with an `interrupted` error; null if it already ended. */
  async #interrupt(record: RunRecord): Promise<RunRecord | null> {
    const recordKey = ["runs", record.projectId, record.id];
    const headKey = this.log.headKey(record.id);
    const messageKey = this.#stores.messages.key(record.projectId, record.messageId);
    const [recordEntry, headEntry, messageEntry] = await this.#kv.getMany<
      [RunRecord, LogHead, Message]
    >([recordKey, headKey, messageKey]);
    const current = recordEntry.value;
    if (!current || current.status !== "running") return null;
    const stray = await this.#strayReplies(current);
    const op = this.#kv.atomic().check(recordEntry, headEntry);
    // The dead owner may have saved its reply without reaching its result.
    for (const key of stray) op.delete(key);
    const lastSeq = headEntry.value?.lastSeq ?? 0;
    const error = {
      code: "interrupted",
      message: "The server stopped before this run finished. Send your message again.",
      step: null,
    };
    const final: RunRecord = {
      ...current,
      status: "interrupted",
      endedAt: isoNow(),
      durationMs: Date.parse(isoNow()) - Date.parse(current.createdAt),
      error,
      lastSeq: headEntry.value?.done ? lastSeq : lastSeq + 1,
    };
    if (!headEntry.value?.done) {
      const event: RunEvent = { type: "error", runId: record.id, seq: lastSeq + 1, ts: now(), error };
      const expiresAt = headEntry.value?.expiresAt ?? Date.now() + this.log.ttlMs;
      this.log.append(op, record.id, [{ seq: event.seq, json: JSON.stringify(event) }], true, expiresAt);
    }
    op.set(recordKey, final).delete(["running", record.id]);
    if (messageEntry.value) op.set(messageKey, { ...messageEntry.value, status: "interrupted" });
    const { ok } = await op.commit();
    return ok ? final : null;
  }

  #listenForCancels(): void {
    const reader = this.#kv.watch([["inbox", this.instanceId]]).getReader();
    this.#inbox = reader;
    (async () => {
      try {
        while (true) {
          const { done } = await reader.read();
          if (done) break;
          for await (const entry of this.#kv.list({ prefix: ["cancel", this.instanceId] })) {
            const runId = entry.key[2] as string;
            await this.#kv.delete(entry.key);
            const live = this.#live.get(runId);
            if (live && !live.feed.done) live.controller.abort(CANCEL);
          }
        }
      } catch (error) {
        if (!this.#shutdown.signal.aborted) console.error("The cancel inbox stopped:", error);
      }
    })();
  }
}

function notFound(runId: string): HttpError {
  return new HttpError(404, "run_not_found", `Run "${runId}" was not found in this project.`);
}
