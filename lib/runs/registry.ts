/**
 * The run registry: every run is a durable object. This is the face of
 * lib/runs/ that routes and pages use — start, read, list, follow, wait for,
 * and cancel runs — over its parts: {@linkcode LiveRun} drives a run here,
 * {@linkcode LogWriter} appends events to the KV log, {@linkcode RemoteFollows}
 * follows runs of other instances, and {@linkcode Leases} handles leases,
 * orphans and cancels across instances. Failures are domain errors
 * (lib/runs/errors.ts); the HTTP edge maps them to statuses.
 *
 * @module
 */

import type { Engine } from "../agent/engine.ts";
import { newId } from "../ids.ts";
import type { Project, RunRecord } from "../protocol.ts";
import { isoNow, listValues, type Stores, whileLocked } from "../store/mod.ts";
import { restoreSpilled } from "../store/chunks.ts";
import { ProjectGone, RunExpired, RunNotFound, RunUnavailable, ShuttingDown } from "./errors.ts";
import { type FollowerCounts, RunFeed } from "./feed.ts";
import { announceEnd, commitStart } from "./announce.ts";
import { runKeys } from "./keys.ts";
import { Leases } from "./leases.ts";
import { LiveRun, STOP } from "./live_run.ts";
import { LiveRuns } from "./live_runs.ts";
import { LogWriter } from "./log_writer.ts";
import { type HeldFeed, RemoteFollows } from "./remote.ts";
import { RunLog } from "./run_log.ts";
import { waitForRecord } from "./waiters.ts";
import { runStarted } from "../telemetry/run_hooks.ts";

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
   * longer than `runTtlMs`, so an expired run answers 410 here too. By
   * default {@linkcode RETAIN_MS}: short with the log (a run that left
   * memory is read back from it), a minute without.
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

/**
 * How long a finished run stays in memory by default (ms). With the log, long
 * enough that an `EventSource` reconnecting after the end (`retry:` is 1 s by
 * default) is answered from memory, and no longer: a finished run holds some
 * 4.5 KB while it stays (at 400 runs a second, a minute of them is over
 * 100 MB of heap), and the log serves a later follower just as well. Without
 * the log, memory is all a late follower can read, so a run stays a minute.
 *
 * @example
 * ```ts
 * import { RETAIN_MS } from "./registry.ts";
 * console.log(RETAIN_MS.logged, RETAIN_MS.unlogged); // 2000 60000
 * ```
 */
export const RETAIN_MS = { logged: 2_000, unlogged: 60_000 } as const;

function retainFor(durable: boolean): number {
  return durable ? RETAIN_MS.logged : RETAIN_MS.unlogged;
}

/**
 * Starts, follows, cancels and recovers runs. See the module docs.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "./registry.ts";
 * import { createStores } from "../store/mod.ts";
 * import { LocalEngine } from "../agent/local_engine.ts";
 * import { followEvents } from "./cursor.ts";
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
  #maxInMemory: number;
  #cancelTimeoutMs: number;
  #live: LiveRuns;
  #writer: LogWriter;
  #leases: Leases;
  #remote: RemoteFollows;
  #counts: FollowerCounts = { cursors: 0, timers: 0 };
  #leaseTimer: ReturnType<typeof setInterval> | undefined;
  #shutdown = new AbortController();

  /** A registry; call {@linkcode RunRegistry.init} before use. */
  constructor(options: RegistryOptions) {
    this.#stores = options.stores;
    this.#kv = options.stores.kv;
    this.#engine = options.engine;
    this.#leaseMs = options.leaseMs;
    this.#durable = options.durableLog ?? true;
    this.#live = new LiveRuns(Math.min(options.retainMs ?? retainFor(this.#durable), options.runTtlMs));
    this.#maxInMemory = Math.max(2, options.maxEventsInMemory ?? 4096);
    this.#cancelTimeoutMs = options.cancelTimeoutMs ?? 5_000;
    this.log = new RunLog(this.#kv, options.runTtlMs);
    this.#writer = new LogWriter(this.#kv, this.log, this.#stores.feed);
    const shutdown = this.#shutdown.signal;
    this.#leases = new Leases({
      kv: this.#kv,
      instanceId: this.instanceId,
      leaseMs: this.#leaseMs,
      log: this.log,
      messages: this.#stores.messages,
      shutdown,
      onInterrupted: (record) => announceEnd(this.#stores, record),
    });
    this.#remote = new RemoteFollows({
      kv: this.#kv,
      log: this.log,
      leases: this.#leases,
      leaseMs: this.#leaseMs,
      maxInMemory: this.#maxInMemory,
      counts: this.#counts,
      shutdown,
    });
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
    // Isolates of `deno serve --parallel` start at once on one KV file: a locked file is retried.
    await whileLocked(() => this.#leases.renew());
    this.#leases.listen((runId) => this.#live.get(runId)?.stop(STOP.cancel));
    await whileLocked(() => this.sweep());
    this.#leaseTimer = setInterval(() => {
      this.#leases.renew().then(() => this.sweep()).catch((error) => {
        if (!this.#shutdown.signal.aborted) console.error("Lease renewal failed:", error);
      });
    }, Math.max(50, Math.floor(this.#leaseMs / 3)));
    // The lease lives as long as something else (the server) keeps the process
    // up: `deno serve` stops on SIGTERM only once no timer holds it.
    Deno.unrefTimer(this.#leaseTimer);
  }

  /**
   * Starts a run at once and returns its record. Throws {@linkcode ShuttingDown} during shutdown, and
   * {@linkcode ProjectGone} when the project was deleted since this instance last read it.
   */
  async start(project: Project, message: string): Promise<RunRecord> {
    if (this.#shutdown.signal.aborted) throw new ShuttingDown();
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
    // The project as last read here (ProjectStore.known): renamed or deleted since, read it again.
    while (!await commitStart(this.#stores, record, userMessage)) {
      const fresh = await this.#stores.projects.get(project.id);
      if (!fresh) throw new ProjectGone(project.id);
      project = fresh;
    }
    const feed = new RunFeed(runId, project.id, this.#counts);
    if (this.#durable) feed.backfill = (after, upTo) => this.log.read(runId, after, upTo);
    const live = new LiveRun(record, userMessage, feed, {
      stores: this.#stores,
      engine: this.#engine,
      durable: this.#durable,
      maxInMemory: this.#maxInMemory,
      schedule: (run) => this.#writer.schedule(run),
      onFinished: (run) => {
        if (!this.#shutdown.signal.aborted) this.#live.retain(run);
      },
    });
    this.#live.add(live);
    // Telemetry and run log lines observe every run; here, inside the request, so its span is linked.
    runStarted(record);
    live.drive(project);
    return { ...record };
  }

  /** A run's record, or null when the project has no such run. */
  async get(projectId: string, runId: string): Promise<RunRecord | null> {
    const live = this.#live.get(runId);
    if (live) return live.record.projectId === projectId ? live.snapshot() : null;
    return await this.#stored(projectId, runId);
  }

  /** A run's stored record, its result whole even when it was kept in parts. */
  async #stored(projectId: string, runId: string): Promise<RunRecord | null> {
    const key = runKeys.record(projectId, runId);
    const record = (await this.#kv.get<RunRecord>(key)).value;
    return record && await restoreSpilled(this.#kv, key, record);
  }

  /** A project's runs, newest first. */
  async list(projectId: string, limit = 100): Promise<RunRecord[]> {
    const stored = await listValues<RunRecord>(this.#kv, runKeys.projectRuns(projectId), {
      reverse: true,
      limit,
    });
    return await Promise.all(
      stored.map((r) =>
        this.#live.get(r.id)?.snapshot() ?? restoreSpilled(this.#kv, runKeys.record(projectId, r.id), r)
      ),
    );
  }

  /**
   * The feed of a run, wherever it is driven. Call `release` when done so a
   * remote run's watch can stop. Throws {@linkcode RunNotFound} for an
   * unknown run and {@linkcode RunExpired} when its log has expired.
   */
  async open(projectId: string, runId: string): Promise<HeldFeed> {
    const live = this.#live.get(runId);
    if (live) {
      if (live.record.projectId !== projectId) throw new RunNotFound(runId);
      return { feed: live.feed, release: () => {} };
    }
    const record = (await this.#kv.get<RunRecord>(runKeys.record(projectId, runId))).value;
    if (!record) throw new RunNotFound(runId);
    // A run with no log yet (the owner has not written) can still be followed.
    if (record.status !== "running" && !(await this.log.head(runId))) throw new RunExpired(runId);
    const held = await this.#remote.hold(record);
    if (!held) throw new RunUnavailable(runId);
    return held;
  }

  /**
   * Stops a run and resolves with its final record. A run driven elsewhere is
   * stopped through its owner's inbox. Idempotent: a finished run answers with
   * its final record.
   */
  async cancel(projectId: string, runId: string): Promise<RunRecord> {
    const live = this.#live.get(runId);
    if (live) {
      if (live.record.projectId !== projectId) throw new RunNotFound(runId);
      live.stop(STOP.cancel);
      await live.finished.promise;
      return live.snapshot();
    }
    const record = await this.#stored(projectId, runId);
    if (!record) throw new RunNotFound(runId);
    if (record.status !== "running") return record;
    return await this.#leases.cancel(
      record,
      () => waitForRecord(this, projectId, runId, this.#cancelTimeoutMs),
    );
  }

  /** Marks runs whose owner's lease has lapsed as interrupted. */
  sweep(): Promise<number> {
    return this.#leases.sweep();
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
    const remote = this.#remote.size;
    return {
      liveRuns: this.#live.size,
      running: this.#live.running().length,
      remoteRuns: remote.runs,
      watches: remote.watches,
      streams: this.#counts.cursors,
      streamTimers: this.#counts.timers,
      timers: this.#live.timers,
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
    const running = this.#live.running();
    if (running.length > 0 && graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(running.map((r) => r.finished.promise)),
        new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    for (const run of running) run.stop(STOP.shutdown);
    await Promise.all(running.map((r) => r.finished.promise));
    await this.#writer.idle();
    await Promise.all(this.#live.all().map((r) => r.unwound));
    await this.#remote.close();
    this.#live.clear();
    // A run.ended the log writer could not add to its commit goes out just after it: it lands before KV closes.
    await this.#stores.feed.settled();
    await this.#leases.release();
  }
}
