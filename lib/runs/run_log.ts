/**
 * A run's events in KV, in order: `["run_events", runId, seq, part]`, plus a
 * head `["run_head", runId]` that changes with every write, so that another
 * instance can `watch` it. Entries expire after the log's TTL.
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { partCount, partOf } from "../store/chunks.ts";
import { runKeys } from "./keys.ts";

/** The head of a run's log. */
export interface LogHead {
  lastSeq: number;
  done: boolean;
  /** Epoch ms after which the log counts as gone. */
  expiresAt: number;
}

/** An event ready to be written: its seq and its JSON. */
export interface LogEntry {
  seq: number;
  json: string;
}

/** KV values are limited to 64 KiB, so an event's JSON is split into parts of this many characters. */
export { PART_CHARS } from "../store/chunks.ts";

/**
 * Reads and writes run logs.
 *
 * @example
 * ```ts
 * import { RunLog } from "./run_log.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new RunLog(kv, 60_000);
 * const op = kv.atomic();
 * log.append(op, "r1", [{ seq: 1, json: '{"type":"token","runId":"r1","seq":1,"ts":0,"delta":"a"}' }], false);
 * await op.commit();
 * console.log((await log.read("r1", 0)).length); // 1
 * kv.close();
 * ```
 */
export class RunLog {
  readonly kv: Deno.Kv;
  readonly ttlMs: number;

  /** A log over an open KV, keeping entries for `ttlMs`. */
  constructor(kv: Deno.Kv, ttlMs: number) {
    this.kv = kv;
    this.ttlMs = ttlMs;
  }

  /** The key another instance watches. */
  headKey(runId: string): Deno.KvKey {
    return runKeys.head(runId);
  }

  /**
   * Adds the writes of a batch of events (in seq order) to an atomic
   * operation. Each entry expires `ttlMs` after it is written; the head
   * records `expiresAt`, which should be `ttlMs` after the run's *first*
   * write (the default is now + `ttlMs`): from then on, part of the log may be
   * gone, so the whole log counts as expired rather than replaying a log with
   * a hole at its start.
   */
  append(
    op: Deno.AtomicOperation,
    runId: string,
    entries: LogEntry[],
    done: boolean,
    expiresAt: number = Date.now() + this.ttlMs,
  ): void {
    for (const entry of entries) {
      this.appendParts(op, runId, entry, 0, partCount(entry.json));
    }
    const last = entries.at(-1);
    if (last) this.writeHead(op, runId, last.seq, done, expiresAt);
  }

  /** Adds the writes of parts `from` to `upTo` (exclusive) of one event. */
  appendParts(op: Deno.AtomicOperation, runId: string, entry: LogEntry, from: number, upTo: number): void {
    const parts = partCount(entry.json);
    for (let part = from; part < upTo; part++) {
      op.set(runKeys.event(runId, entry.seq, part), { n: parts, s: partOf(entry.json, part) }, {
        expireIn: this.ttlMs,
      });
    }
  }

  /** Adds the write of the head: the log holds every event up to `lastSeq`. */
  writeHead(
    op: Deno.AtomicOperation,
    runId: string,
    lastSeq: number,
    done: boolean,
    expiresAt: number,
  ): void {
    const head: LogHead = { lastSeq, done, expiresAt };
    op.set(this.headKey(runId), head, { expireIn: this.ttlMs });
  }

  /** The head, or null when the run has no log (or it expired). */
  async head(runId: string): Promise<LogHead | null> {
    const head = (await this.kv.get<LogHead>(this.headKey(runId))).value;
    return head && head.expiresAt > Date.now() ? head : null;
  }

  /** Events with `after < seq <= upTo`, in order. */
  async read(runId: string, after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    let pending = "";
    const iter = this.kv.list<{ n: number; s: string }>({
      start: [...runKeys.events(runId), after + 1],
      end: [...runKeys.events(runId), upTo + 1],
    }, { batchSize: 1000 });
    for await (const entry of iter) {
      const part = entry.key[3] as number;
      pending = part === 0 ? entry.value.s : pending + entry.value.s;
      // The last part makes the event whole (a large event is written part by part).
      if (part === entry.value.n - 1) {
        events.push(JSON.parse(pending) as RunEvent);
        pending = "";
      }
    }
    return events;
  }
}
