/**
 * Following runs that another instance drives. The first follower of such a
 * run here reads the tail of its log into a {@linkcode RunFeed} and watches
 * the log's head with one `kv.watch`; every later follower here shares that
 * feed and that watch. When the last follower lets go, the watch stops. If
 * the owner dies, a liveness check ends the run as interrupted.
 *
 * @module
 */

import type { RunRecord } from "../protocol.ts";
import { FeedGapError, type FollowerCounts, RunFeed } from "./feed.ts";
import type { Leases } from "./leases.ts";
import type { RunLog } from "./run_log.ts";

/** A feed held by a follower; `release` lets it go. */
export interface HeldFeed {
  feed: RunFeed;
  release: () => void;
}

interface RemoteRun {
  feed: RunFeed;
  record: RunRecord;
  /** Whether the watch stopped (the feed is then done). */
  stopped: boolean;
  stop: () => void;
}

/** Options of {@linkcode RemoteFollows}. */
export interface RemoteFollowsOptions {
  kv: Deno.Kv;
  log: RunLog;
  leases: Leases;
  leaseMs: number;
  /** Events a feed holds in memory; older ones are read back from the log. */
  maxInMemory: number;
  counts: FollowerCounts;
  shutdown: AbortSignal;
}

/**
 * The runs of other instances followed here. See the module docs.
 *
 * @example
 * ```ts ignore
 * const follows = new RemoteFollows({ kv, log, leases, leaseMs, maxInMemory: 4096, counts, shutdown });
 * const held = await follows.hold(record); // null when it cannot be followed now
 * held?.release();
 * ```
 */
export class RemoteFollows {
  #o: RemoteFollowsOptions;
  #remote = new Map<string, RemoteRun>();
  /** Follows being set up, so concurrent opens share one watch. */
  #opening = new Map<string, Promise<RemoteRun>>();
  #watches = 0;

  /** Follows over the options' KV and log. */
  constructor(options: RemoteFollowsOptions) {
    this.#o = options;
  }

  /** How many runs are followed, and how many KV watches are open. */
  get size(): { runs: number; watches: number } {
    return { runs: this.#remote.size, watches: this.#watches };
  }

  /**
   * A feed of the run `record` names, shared with every other follower here,
   * or null when it cannot be followed right now.
   */
  async hold(record: RunRecord): Promise<HeldFeed | null> {
    const runId = record.id;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = this.#remote.get(runId);
      if (current && !current.stopped && current.record.projectId === record.projectId) {
        return this.#hold(runId, current);
      }
      let opening = this.#opening.get(runId);
      if (!opening) {
        opening = this.#follow(record).finally(() => this.#opening.delete(runId));
        this.#opening.set(runId, opening);
      }
      const created = await opening;
      // A follow whose watch already stopped is still good if its run ended.
      if (!created.stopped || created.feed.ended) return this.#hold(runId, created);
    }
    return null;
  }

  /** Stops every follow (at shutdown). */
  async close(): Promise<void> {
    for (const opening of [...this.#opening.values()]) await opening.catch(() => {});
    for (const remote of this.#remote.values()) remote.stop();
    this.#remote.clear();
  }

  #hold(runId: string, remote: RemoteRun): HeldFeed {
    let released = false;
    remote.feed.followers++;
    return {
      feed: remote.feed,
      release: () => {
        if (released) return;
        released = true;
        remote.feed.followers--;
        // A cursor opened right after this counts as a follower too: stop when none is left.
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
    const { kv, log, maxInMemory } = this.#o;
    const runId = record.id;
    const feed = new RunFeed(runId, record.projectId, this.#o.counts);
    feed.backfill = (after, upTo) => log.read(runId, after, upTo);
    // Only the tail goes to memory; followers from further back read the log.
    const head = await log.head(runId);
    feed.base = feed.lastSeq = Math.max(0, (head?.lastSeq ?? 0) - maxInMemory);
    this.#pushFrom(feed, await log.read(runId, feed.lastSeq));
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
    reader = kv.watch([log.headKey(runId)]).getReader();
    this.#watches++;
    (async () => {
      try {
        while (!stopped) {
          const { done } = await reader!.read();
          if (done || stopped) break;
          this.#pushFrom(feed, await log.read(runId, feed.lastSeq));
          // Everything here is in the log already: keep memory bounded.
          if (feed.events.length > maxInMemory) feed.trim(feed.lastSeq - maxInMemory / 2);
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
        if (!(await this.#o.leases.ownerAlive(record.owner))) await this.#o.leases.interrupt(record);
      } catch (error) {
        if (!stopped && !this.#o.shutdown.aborted) console.error(`Checking run ${runId} failed:`, error);
      }
    }, this.#o.leaseMs);
    Deno.unrefTimer(timers.liveness);
    return remote;
  }

  /** Pushes what the log holds after the feed's last seq; a hole in the log closes the feed. */
  #pushFrom(feed: RunFeed, events: { seq: number }[]): void {
    for (const event of events as Parameters<RunFeed["push"]>[0][]) {
      if (event.seq <= feed.lastSeq) continue;
      if (event.seq !== feed.lastSeq + 1) {
        console.error(new FeedGapError(feed.runId, feed.lastSeq).message);
        feed.close();
        return;
      }
      feed.push(event);
    }
  }
}
