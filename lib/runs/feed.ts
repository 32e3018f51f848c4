/**
 * A run's events in memory, shared by every follower in this isolate.
 *
 * The feed holds each event once, with its event-stream frame already
 * encoded; followers keep only a cursor (a seq). A follower that reads slowly
 * therefore costs nothing but its cursor: it is never buffered for, and it
 * catches up from the feed (or from the KV log for events the feed dropped).
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { encodeServerSentEvent } from "../sse.ts";
import { isTerminal } from "./outcome.ts";

const encoder = new TextEncoder();

/**
 * Encodes an event as its event-stream frame: `id: <seq>` and one `data:` line.
 * The run encodes each event once; the wire and every follower share the bytes.
 * `json` is the event's JSON text, which never holds a raw line break.
 */
export function encodeFrame(event: RunEvent, json = JSON.stringify(event)): Uint8Array {
  // UTF-8 takes at most three bytes per UTF-16 unit; the id line and the framing fit in 40 more.
  const most = json.length * 3 + 40;
  if (
    most > SLAB_BYTES / 4 || !Number.isSafeInteger(event.seq) || event.seq < 0 || json.includes("\n") ||
    json.includes("\r")
  ) {
    return encoder.encode(encodeServerSentEvent({ id: event.seq, data: json }));
  }
  if (SLAB_BYTES - slabUsed < most) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  // Written straight into the slab, byte by byte around the JSON: no frame text is built.
  const start = slabUsed;
  let at = putAscii(ID_PREFIX, start);
  at = putDigits(event.seq, at);
  at = putAscii(DATA_PREFIX, at);
  at += encoder.encodeInto(json, slab.subarray(at)).written;
  slab[at++] = LF;
  slab[at++] = LF;
  slabUsed = at;
  return slab.subarray(start, at);
}

const LF = 10;
const ID_PREFIX = "id: ";
const DATA_PREFIX = "\ndata: ";

function putAscii(text: string, at: number): number {
  for (let i = 0; i < text.length; i++) slab[at++] = text.charCodeAt(i);
  return at;
}

/** Writes a whole number's decimal digits (an event's seq). */
function putDigits(value: number, at: number): number {
  let end = at;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) end++;
  for (let i = end, rest = value; i >= at; i--, rest = Math.floor(rest / 10)) slab[i] = 48 + (rest % 10);
  return end + 1;
}

/**
 * Frames are short-lived and many: each is a view into a shared 64 KiB slab
 * rather than a buffer of its own, which spares the garbage collector an
 * ArrayBuffer per event (a slab is freed once its last frame is).
 */
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/** Reads events after a seq from somewhere slower than memory (the KV log). */
export type Backfill = (after: number, upTo: number) => Promise<RunEvent[]>;

/**
 * The most events a follower reads from the log at once, so that catching up
 * from far behind costs a bounded amount of memory per step.
 */
export const BACKFILL_BATCH = 256;

/** What the followers of a registry's feeds hold open, counted for tests and stats. */
export interface FollowerCounts {
  /** Open cursors (event streams, in-process followers, waiters). */
  cursors: number;
  /** Keep-alive timers armed. */
  timers: number;
}

/** Thrown when a feed cannot give the events right after a seq: the log lost some. */
export class FeedGapError extends Error {
  /** Events after `after` of run `runId` are missing. */
  constructor(runId: string, after: number) {
    super(`Run ${runId} lost events after seq ${after}.`);
    this.name = "FeedGapError";
  }
}

/**
 * The in-memory event list of one run.
 *
 * @example
 * ```ts
 * import { RunFeed } from "./feed.ts";
 * const feed = new RunFeed("r1", "p1");
 * feed.push({ type: "token", runId: "r1", seq: 1, ts: 0, delta: "hi" });
 * console.log(feed.lastSeq, feed.after(0).length); // 1 1
 * ```
 */
export class RunFeed {
  readonly runId: string;
  readonly projectId: string;
  /** Events with seq `base + 1` onward. */
  events: RunEvent[] = [];
  frames: Uint8Array[] = [];
  /** The seq before the first event held in memory. */
  base = 0;
  lastSeq = 0;
  /** No event will follow: the terminal event arrived, or the feed was closed. */
  done = false;
  /** The terminal event arrived (a closed feed is done without having ended). */
  ended = false;
  /** Followers currently attached (for stats and clean-up). */
  followers = 0;
  /** The registry-wide counts its cursors add to. */
  readonly counts: FollowerCounts;
  /** Reads what the feed no longer (or never) held. */
  backfill: Backfill | null = null;
  #waiters = new Set<() => void>();
  /** The attached followers (cursors), by their positions. */
  #readers = new Set<{ readonly position: number }>();
  /** The other set of waiters, swapped in at each wake (no allocation per event). */
  #spare = new Set<() => void>();
  /** Once ended, keep only the terminal event in memory as soon as no follower reads (see {@linkcode RunFeed.lean}). */
  #lean = false;
  /** Log reads in flight, by the seq they read after. */
  #reads = new Map<number, Promise<RunEvent[]>>();

  /** A feed for one run; its cursors are counted in `counts`. */
  constructor(runId: string, projectId: string, counts: FollowerCounts = { cursors: 0, timers: 0 }) {
    this.runId = runId;
    this.projectId = projectId;
    this.counts = counts;
  }

  /** Whether the events after `after` left memory and must be read from the log. */
  behind(after: number): boolean {
    return after < this.base && this.backfill !== null;
  }

  /**
   * The next events after `after` that left memory, read from the log in a
   * batch of at most {@linkcode BACKFILL_BATCH} (so catching up from far
   * behind costs bounded memory per step), and checked to follow on from
   * `after` without a gap. Followers at the same position share one read.
   * Throws a {@linkcode FeedGapError} when the log has lost some of them.
   */
  async catchUp(after: number): Promise<RunEvent[]> {
    // Followers at the same position share one read: a replay costs one read per batch, not per follower.
    let reading = this.#reads.get(after);
    if (!reading) {
      reading = this.backfill
        ? this.backfill(after, Math.min(this.base, after + BACKFILL_BATCH))
        : Promise.resolve([]);
      this.#reads.set(after, reading);
      reading.finally(() => this.#reads.delete(after)).catch(() => {});
    }
    const read = await reading;
    const next = read.filter((e) => e.seq > after);
    if (next.length === 0 || next.some((e, i) => e.seq !== after + 1 + i)) {
      throw new FeedGapError(this.runId, after);
    }
    return next;
  }

  /** Appends the next event (seq must be `lastSeq + 1`) and wakes waiters. */
  push(event: RunEvent, frame: Uint8Array = encodeFrame(event)): void {
    if (this.done) return;
    if (event.seq !== this.lastSeq + 1) {
      throw new RangeError(`Run ${this.runId} expected seq ${this.lastSeq + 1}, got ${event.seq}.`);
    }
    this.events.push(event);
    this.frames.push(frame);
    this.lastSeq = event.seq;
    if (isTerminal(event)) this.done = this.ended = true;
    this.wake();
  }

  /** Drops the oldest events from memory, keeping seq > `upTo`. */
  trim(upTo: number): void {
    const count = Math.min(upTo - this.base, this.events.length);
    if (count <= 0) return;
    this.events.splice(0, count);
    this.frames.splice(0, count);
    this.base += count;
  }

  /**
   * Marks the feed finished without a terminal event (its watch stopped or the
   * server is shutting down): followers close and reconnect later.
   */
  close(): void {
    this.done = true;
    this.wake();
  }

  /** The events in memory after a seq (empty when behind `base`). */
  after(seq: number): RunEvent[] {
    return seq < this.base ? [] : this.events.slice(seq - this.base);
  }

  /** The frames in memory after a seq (empty when behind `base`). */
  framesAfter(seq: number): Uint8Array[] {
    return seq < this.base ? [] : this.frames.slice(seq - this.base);
  }

  /**
   * Calls `wake` once, at the next push or close (a cursor passes the same
   * function every time, so waiting allocates nothing per event).
   */
  listen(wake: () => void): void {
    this.#waiters.add(wake);
  }

  /** Stops `wake` from being called (when its follower stops waiting). */
  unlisten(wake: () => void): void {
    this.#waiters.delete(wake);
  }

  /** Resolves at the next push or close. `cancel` stops waiting. */
  wait(): { promise: Promise<void>; cancel: () => void } {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.listen(resolve);
    return {
      promise,
      cancel: () => {
        this.unlisten(resolve);
        resolve();
      },
    };
  }

  /** Wakes every waiter (used by push, close and heartbeats). */
  wake(): void {
    if (this.#waiters.size === 0) return;
    // Waiters that listen again while being woken go to the other set.
    const waiters = this.#waiters;
    this.#waiters = this.#spare;
    for (const wake of waiters) wake();
    waiters.clear();
    this.#spare = waiters;
  }

  /** How many followers are waiting for the next event. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * The run's log holds every event: once the run has ended and no follower
   * is attached, keep only the terminal event in memory (followers that come
   * later read the rest from the log), so a finished run costs almost nothing
   * while it is retained.
   */
  lean(): void {
    this.#lean = true;
    this.#shed();
  }

  /** A follower attaches; `position` says how far it has read. */
  attach(follower: { readonly position: number }): void {
    this.#readers.add(follower);
    this.followers++;
    this.counts.cursors++;
  }

  /** A follower detaches. */
  detach(follower: { readonly position: number }): void {
    this.#readers.delete(follower);
    this.followers--;
    this.counts.cursors--;
    this.#shed();
  }

  /**
   * Events up to `seq` are in the log: drop from memory those every attached
   * follower has read, so an event lives about one commit window, not the
   * whole run (a follower that comes later reads them from the log). Only a
   * feed with a log to read back from drops anything.
   */
  logged(seq: number): void {
    if (this.backfill === null) return;
    let upTo = seq;
    for (const reader of this.#readers) if (reader.position < upTo) upTo = reader.position;
    this.trim(upTo);
  }

  #shed(): void {
    if (!this.#lean || !this.ended || this.followers > 0) return;
    this.trim(this.lastSeq - 1);
    // Fresh lists: the old ones keep the room they grew to over the whole run.
    this.events = this.events.slice();
    this.frames = this.frames.slice();
    // The kept frame gets a buffer of its own, so it does not hold a whole slab for the retention time.
    const last = this.frames.length - 1;
    if (last >= 0 && this.frames[last]!.byteLength !== this.frames[last]!.buffer.byteLength) {
      this.frames[last] = this.frames[last]!.slice();
    }
  }
}
