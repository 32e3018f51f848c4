/**
 * A run's events in KV, in order: `["run_events", runId, seq, part]`, plus a
 * head `["run_head", runId]` that changes with every write, so that another
 * instance can `watch` it. Entries expire after the log's TTL.
 *
 * Consecutive events written in one commit share one KV value (a chunk: their
 * JSON, one event per line, under the seq of its last event), so a run costs
 * a few KV mutations per commit rather than one per token. An event too large
 * for one value is a chunk of its own, split into parts. A log written one
 * event per key is the special case of one-event chunks, and reads the same.
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { PART_CHARS, partCount, partOf } from "../store/chunks.ts";
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
export { PART_CHARS };

/**
 * How many KV values (parts) the next event adds to a batch's chunks, when
 * `open` is the characters of the chunk being filled (-1 when none is open).
 * The log writer counts mutations with it and {@linkcode chunkOpen}, and
 * {@linkcode chunkEntries} cuts with them, so all agree. Two numbers, two
 * functions: nothing is allocated per event.
 *
 * @example
 * ```ts
 * import { chunkParts } from "./run_log.ts";
 * console.log(chunkParts(-1, 100), chunkParts(100, 100)); // 1 0
 * ```
 */
export function chunkParts(open: number, chars: number): number {
  if (chars > PART_CHARS) return Math.ceil(chars / PART_CHARS);
  return open >= 0 && open + 1 + chars <= PART_CHARS ? 0 : 1;
}

/**
 * The characters of the open chunk once the next event joins it (see
 * {@linkcode chunkParts}); -1 after an event too large to share a value.
 *
 * @example
 * ```ts
 * import { chunkOpen } from "./run_log.ts";
 * console.log(chunkOpen(-1, 100), chunkOpen(100, 100)); // 100 201
 * ```
 */
export function chunkOpen(open: number, chars: number): number {
  if (chars > PART_CHARS) return -1;
  return open >= 0 && open + 1 + chars <= PART_CHARS ? open + 1 + chars : chars;
}

/**
 * Cuts a batch of entries (in seq order) into chunks: consecutive events
 * joined by newlines (JSON text never holds a raw one) up to
 * {@linkcode PART_CHARS}, each named by its last seq; a larger event alone.
 *
 * @example
 * ```ts
 * import { chunkEntries } from "./run_log.ts";
 * console.log(chunkEntries([{ seq: 1, json: "{}" }, { seq: 2, json: "[]" }])); // [{ seq: 2, json: "{}\n[]" }]
 * ```
 */
export function chunkEntries(entries: LogEntry[]): LogEntry[] {
  const chunks: LogEntry[] = [];
  let open = -1;
  let lines: string[] = [];
  let lastSeq = 0;
  for (const entry of entries) {
    const parts = chunkParts(open, entry.json.length);
    const next = chunkOpen(open, entry.json.length);
    if (parts > 0 && lines.length > 0) {
      chunks.push({ seq: lastSeq, json: lines.length === 1 ? lines[0]! : lines.join("\n") });
      lines = [];
    }
    if (next < 0) chunks.push(entry);
    else lines.push(entry.json);
    open = next;
    lastSeq = entry.seq;
  }
  if (lines.length > 0) {
    chunks.push({ seq: lastSeq, json: lines.length === 1 ? lines[0]! : lines.join("\n") });
  }
  return chunks;
}

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
   * Adds the writes of a batch of events (in seq order, cut into chunks by
   * {@linkcode chunkEntries}) to an atomic operation. Each entry expires `ttlMs` after it is written; the head
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
    for (const chunk of chunkEntries(entries)) {
      this.appendParts(op, runId, chunk, 0, partCount(chunk.json));
    }
    const last = entries.at(-1);
    if (last) this.writeHead(op, runId, last.seq, done, expiresAt);
  }

  /** Adds the writes of parts `from` to `upTo` (exclusive) of one event (or chunk). */
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

  /** Events with `after < seq <= upTo`, in order (a hole in the log is left for the caller to find). */
  async read(runId: string, after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    let pending = "";
    // Chunks are keyed by their last seq: the first one at or past `after + 1` holds it.
    const iter = this.kv.list<{ n: number; s: string }>({
      prefix: runKeys.events(runId),
      start: [...runKeys.events(runId), after + 1],
    }, { batchSize: 64 });
    for await (const entry of iter) {
      const part = entry.key[3] as number;
      pending = part === 0 ? entry.value.s : pending + entry.value.s;
      // The last part makes the chunk whole (a large event is written part by part).
      if (part !== entry.value.n - 1) continue;
      for (const line of pending.split("\n")) {
        const event = JSON.parse(line) as RunEvent;
        if (event.seq > after && event.seq <= upTo) events.push(event);
      }
      pending = "";
      if ((entry.key[2] as number) >= upTo) break;
    }
    return events;
  }
}
