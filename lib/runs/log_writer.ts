/**
 * The run log's writer: one per registry. It takes the events of every run
 * this instance drives and appends them to their logs in KV, grouping all
 * runs' pending events into each atomic commit (up to KV's limits; a run's
 * consecutive events share one KV value), so under
 * load the number of commits, each waiting on the disk, does not grow with
 * the number of runs. While a commit is in flight, new events gather for the
 * next one; the agent never waits for any of it. A run's terminal event goes
 * with its final writes and its project feed's changes (its reply,
 * `run.ended`), checked against the feed's head: a run ends in one commit.
 *
 * No event is ever skipped: an event too large for one commit is written
 * part by part over several. A commit that keeps failing is split: its runs
 * are written one by one, so one run's bad window or value cannot hold up
 * the others. A run whose own write keeps failing has its pending tail
 * replaced: each event not yet logged by a short stand-in (followers already
 * saw it live; the log keeps its seqs without a gap) and its terminal event
 * by a `log_write_failed` error, logged with its ended record. Every run so
 * ends with exactly one logged terminal event (a run whose replacement
 * cannot be written either, as when KV refuses every write, is retried
 * after the others until KV takes it).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { FeedChange } from "../protocol.ts";
import type { FeedAppend, FeedLog, StagedAppends } from "../feeds/feed_log.ts";
import type { LogEntry, RunLog } from "./run_log.ts";
import { chunkOpen, chunkParts, PART_CHARS } from "./run_log.ts";
import { standIn } from "./stand_in.ts";
import { type CommitGroup, groupCommits } from "../store/group_commit.ts";

/** KV allows 1,000 mutations and about 800 KiB per atomic commit; stay below. */
const MAX_MUTATIONS = 900;
/**
 * What one commit's values may weigh, in bytes. KV serialises a string with
 * one byte per character while every character fits Latin-1, and two once
 * one does not (a curly quote, an emoji): so a character counts two bytes.
 */
const MAX_COMMIT_BYTES = 700_000;

/**
 * The most mutations a run's end adds: {@linkcode LoggedRun.finalWrites}
 * (the record, the running index, and the reply or else the user's message's
 * mark and the conversation's edit count) and {@linkcode LoggedRun.finalAppend}
 * (two changes and the feed's head).
 */
export const FINAL_WRITES = 7;

/** KV allows 100 checks per commit: each project feed a commit appends to is one. */
const MAX_FEEDS = 90;

/** Failed attempts at one commit before its runs are told. */
const ATTEMPTS_BEFORE_FAILING = 5;

/** A run whose events the writer appends; the driver implements it. */
export interface LoggedRun {
  readonly runId: string;
  /** Events emitted and not yet written, in seq order. */
  readonly pending: LogEntry[];
  /** The seq of the last event written. */
  committedSeq: number;
  /** When the log counts as expired: the TTL after the first write. */
  logExpiresAt: number | null;
  /** The seq of the run's terminal event once it was emitted. */
  readonly endSeq: number | null;
  /**
   * Adds the run's final writes (its record, the index, its reply) to the commit with its terminal
   * event.
   */
  finalWrites(op: Deno.AtomicOperation): void;
  /** What its project's feed hears in that commit (`run.ended`, and the reply). */
  finalAppend(): FeedAppend;
  /** What the final writes weigh at most, in bytes (counted as the commit is filled). */
  finalBytes(): number;
  /** Everything up to `seq` is in the log; `done` once the terminal event and final writes are. */
  written(seq: number, done: boolean): void;
  /**
   * The log cannot take the run's events: the run must end with a
   * `log_write_failed` error, queued in `pending` as the next seq after it
   * (the writer has taken its unlogged terminal event out of `pending`).
   */
  failed(error: unknown): void;
}

/**
 * Groups the pending events of many runs into few commits. See the module docs.
 *
 * @example
 * ```ts ignore
 * const writer = new LogWriter(kv, log);
 * run.pending.push({ seq: 1, json }); // then:
 * writer.schedule(run);
 * ```
 */
export class LogWriter {
  #kv: Deno.Kv;
  #log: RunLog;
  #feed: FeedLog;
  #group: CommitGroup;
  #dirty = new Set<LoggedRun>();
  #writing: Promise<void> | null = null;
  /** Parts of a large event already written, by run: the next part to write. */
  #partsDone = new Map<LoggedRun, number>();
  /** Runs of a commit that kept failing, written one per commit until each is through. */
  #suspects = new Set<LoggedRun>();
  /** Runs whose tail was already replaced by a `log_write_failed` error. */
  #failed = new WeakSet<LoggedRun>();

  /** A writer over `log`; runs' ends are appended to their projects' feeds in `feed`. */
  constructor(kv: Deno.Kv, log: RunLog, feed: FeedLog) {
    this.#kv = kv;
    this.#log = log;
    this.#feed = feed;
    this.#group = groupCommits(kv);
  }

  /** Whether a commit is in flight or due. */
  get busy(): boolean {
    return this.#writing !== null;
  }

  /** Notes that `run` has pending events and starts a write unless one is going. */
  schedule(run: LoggedRun): void {
    this.#dirty.add(run);
    // The first event in a while goes out with what else this turn of the event loop and the next
    // bring: a run emits many at once, and hands the loop back once inside each step (its work begins
    // at the next turn). One commit for them, not one for the first and one for the rest (at one run
    // at a time, 2.6 log commits a run instead of 3.4). setImmediate: some 25 µs a turn here, where a
    // setTimeout of 0 waits about 2 ms.
    this.#writing ??= new Promise((resolve) => setImmediate(() => setImmediate(resolve))).then(() =>
      this.#write()
    );
  }

  /** Resolves once nothing is pending (or in flight). */
  async idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #write(): Promise<void> {
    let failures = 0;
    // Failed commits since the last success: the pause grows with them.
    let streak = 0;
    while (this.#dirty.size > 0) {
      // Runs starting go first: their commits are small and a client waits on each for its first
      // event; events gather meanwhile and go out together in this commit.
      await this.#group.caughtUp();
      // After a split, suspects go one commit each until each is written or failed.
      const solo = this.#nextSuspect();
      const op = this.#kv.atomic();
      const { taken, staged, later } = this.#fill(op, solo ? [solo] : this.#dirty);
      let result: Deno.KvCommitResult | Deno.KvCommitError;
      try {
        result = await op.commit();
      } catch (error) {
        staged.abandon();
        failures++;
        streak++;
        if (failures >= ATTEMPTS_BEFORE_FAILING) {
          failures = 0;
          if (taken.length > 1) {
            console.error(`A run log commit of ${taken.length} runs failed; writing them one by one:`, error);
            for (const { run } of taken) this.#suspects.add(run);
          } else if (taken[0]) {
            this.#fail(taken[0].run, error);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 20 * streak)));
        continue;
      }
      if (!result.ok) {
        // Another writer moved a project feed's head (its check is the only one here): nothing was
        // written; read the heads again and go again.
        try {
          await staged.refresh();
        } catch (error) {
          console.error("Reading project feeds' heads again failed; retrying:", error);
          await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 20 * ++streak)));
        }
        continue;
      }
      staged.committed(result.versionstamp);
      failures = streak = 0;
      if (solo) this.#suspects.delete(solo);
      for (const step of taken) this.#settle(step);
      for (const append of later) this.#announce(append);
    }
    // In the same tick as the last check of #dirty: a run scheduled after it starts a new write.
    this.#writing = null;
  }

  /** The first suspect of a split commit that still has something to write. */
  #nextSuspect(): LoggedRun | null {
    for (const run of this.#suspects) {
      if (this.#dirty.has(run)) return run;
      this.#suspects.delete(run);
    }
    return null;
  }

  /**
   * A run whose own commit keeps failing: its unlogged tail is replaced (see
   * the module docs) and the run told, once. When even that cannot be
   * written, it waits behind the other runs and is tried again.
   */
  #fail(run: LoggedRun, error: unknown): void {
    this.#suspects.delete(run);
    this.#partsDone.delete(run);
    if (this.#failed.has(run)) {
      console.error(`Run ${run.runId}: its log_write_failed error cannot be logged yet; retrying:`, error);
      this.#dirty.delete(run);
      this.#dirty.add(run);
      return;
    }
    this.#failed.add(run);
    console.error(
      `Run ${run.runId}: its log write failed ${ATTEMPTS_BEFORE_FAILING} times; ending it:`,
      error,
    );
    const tail = run.pending.splice(0).filter((entry) => entry.seq !== run.endSeq);
    let step: string | null = null;
    for (const entry of tail) {
      const replaced = standIn(run.runId, entry, step);
      step = replaced.step;
      run.pending.push(replaced);
    }
    run.failed(error);
  }

  /**
   * A feed change that {@linkcode FeedLog.stage} could not add (this instance did not know the feed's
   * head, or was appending to it at that moment): appended on its own once the run's final writes are
   * in. A failure is logged: the run itself has ended and its record says so.
   */
  #announce(append: FeedAppend): void {
    this.#feed.commit([append]).catch((error) =>
      console.error(`Telling the feed ${append.scope} that runs ended failed:`, error)
    );
  }

  /**
   * Notes the feed changes of a run's end in `ends` (by feed); false, noting nothing, when the commit
   * already appends to as many feeds as it can check.
   */
  #end(run: LoggedRun, ends: Map<string, FeedChange[]>): boolean {
    const { scope, changes } = run.finalAppend();
    const feed = ends.get(scope);
    if (feed) feed.push(...changes);
    else if (ends.size >= MAX_FEEDS) return false;
    else ends.set(scope, [...changes]);
    return true;
  }

  /**
   * Adds as many pending events as fit to `op`, with the final writes of runs that end and their feeds'
   * changes; returns what it took from each run, the staged feed changes, and those left for later.
   */
  #fill(op: Deno.AtomicOperation, runs: Iterable<LoggedRun>): Filled {
    const taken: Taken[] = [];
    const ends = new Map<string, FeedChange[]>();
    let mutations = 0;
    let size = 0;
    for (const run of runs) {
      if (run.pending.length === 0) {
        // A run without a log: only its final writes, grouped with other runs' like any commit.
        if (run.endSeq === null || mutations + FINAL_WRITES > MAX_MUTATIONS) continue;
        const bytes = run.finalBytes();
        if (taken.length > 0 && size + bytes > MAX_COMMIT_BYTES) continue;
        if (!this.#end(run, ends)) continue;
        mutations += FINAL_WRITES;
        size += bytes;
        run.finalWrites(op);
        taken.push({ run, count: 0, done: true });
        continue;
      }
      let count = 0;
      let runMutations = 1 + FINAL_WRITES; // the head, and the final writes
      // Consecutive events share a KV value (lib/runs/run_log.ts): count values, not events.
      let open = -1;
      while (count < run.pending.length) {
        const entry = run.pending[count]!;
        const parts = chunkParts(open, entry.json.length);
        // The terminal event brings the run's final writes into the same commit.
        const bytes = 2 * entry.json.length + (entry.seq === run.endSeq ? run.finalBytes() : 0);
        const fits = mutations + runMutations + parts <= MAX_MUTATIONS && size + bytes <= MAX_COMMIT_BYTES;
        if (!fits) break;
        runMutations += parts;
        size += bytes;
        open = chunkOpen(open, entry.json.length);
        count++;
      }
      if (count === 0) {
        // The first pending event does not fit: alone, it goes part by part.
        if (taken.length === 0) taken.push(this.#fillParts(op, run, ends));
        break;
      }
      // The terminal event waits for the next commit when this one has no room for its feed's check.
      if (run.endSeq === run.pending[count - 1]!.seq && !this.#end(run, ends)) count--;
      if (count === 0) continue;
      mutations += runMutations;
      const batch = run.pending.slice(0, count);
      const done = run.endSeq === batch[count - 1]!.seq;
      run.logExpiresAt ??= Date.now() + this.#log.ttlMs;
      this.#log.append(op, run.runId, batch, done, run.logExpiresAt);
      if (done) run.finalWrites(op);
      taken.push({ run, count, done });
    }
    const { staged, later } = this.#feed.stage(op, [...ends].map(([scope, changes]) => ({ scope, changes })));
    return { taken, staged, later };
  }

  /** Writes the next parts of one large event; it counts as written with its last part. */
  #fillParts(op: Deno.AtomicOperation, run: LoggedRun, ends: Map<string, FeedChange[]>): Taken {
    const entry = run.pending[0]!;
    const from = this.#partsDone.get(run) ?? 0;
    const parts = Math.ceil(entry.json.length / PART_CHARS);
    // Room for the final writes too, when this is the terminal event's last commit.
    const reserve = run.endSeq === entry.seq ? run.finalBytes() : 0;
    const upTo = Math.min(
      parts,
      from + Math.max(1, Math.floor((MAX_COMMIT_BYTES - reserve) / 2 / PART_CHARS)),
    );
    run.logExpiresAt ??= Date.now() + this.#log.ttlMs;
    this.#log.appendParts(op, run.runId, entry, from, upTo);
    if (upTo < parts) return { run, count: 0, done: false, parts: upTo };
    // The first run of its commit: its feed's check always has room.
    const done = run.endSeq === entry.seq && this.#end(run, ends);
    this.#log.writeHead(op, run.runId, entry.seq, done, run.logExpiresAt);
    if (done) run.finalWrites(op);
    return { run, count: 1, done };
  }

  #settle({ run, count, done, parts }: Taken): void {
    if (done) this.#failed.delete(run);
    if (count === 0 && done) {
      this.#dirty.delete(run);
      run.written(run.committedSeq, true);
      return;
    }
    if (count === 0) {
      this.#partsDone.set(run, parts ?? 0);
      return;
    }
    this.#partsDone.delete(run);
    const last = run.pending[count - 1]!;
    run.pending.splice(0, count);
    run.committedSeq = last.seq;
    if (run.pending.length === 0) this.#dirty.delete(run);
    run.written(last.seq, done);
  }
}

interface Filled {
  taken: Taken[];
  /** The feed changes of the runs that end, added to the commit. */
  staged: StagedAppends;
  /** Those of feeds whose head this instance did not know: appended once the commit is in. */
  later: FeedAppend[];
}

interface Taken {
  run: LoggedRun;
  count: number;
  done: boolean;
  /** For a large event written part by part: the parts written so far. */
  parts?: number;
}
