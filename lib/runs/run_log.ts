/**
 * A run's events in KV, in order: `["run_events", runId, seq, part]`, plus a
 * head `["run_head", runId]` that changes with every write, so that another
 * instance can `watch` it. Entries expire after the log's TTL.
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";

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

/** KV values are limited to 64 KiB, so an event's JSON is split into parts: the characters of JSON per KV value (three bytes each at most, under 64 KiB). */
export const PART_CHARS = 16_000;

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
    return ["run_head", runId];
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
    const expireIn = this.ttlMs;
    for (const { seq, json } of entries) {
      const parts = Math.max(1, Math.ceil(json.length / PART_CHARS));
      for (let part = 0; part < parts; part++) {
        const text = json.slice(part * PART_CHARS, (part + 1) * PART_CHARS);
        op.set(["run_events", runId, seq, part], { n: parts, s: text }, { expireIn });
      }
    }
    const last = entries.at(-1);
    if (last) {
      const head: LogHead = { lastSeq: last.seq, done, expiresAt };
      op.set(this.headKey(runId), head, { expireIn });
    }
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
      start: ["run_events", runId, after + 1],
      end: ["run_events", runId, upTo + 1],
    }, { batchSize: 1000 });
    for await (const entry of iter) {
      const part = entry.key[3] as number;
      pending = part === 0 ? entry.value.s : pending + entry.value.s;
      if (part === entry.value.n - 1) {
        events.push(JSON.parse(pending) as RunEvent);
        pending = "";
      }
    }
    return events;
  }
}
