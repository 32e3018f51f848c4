/**
 * One feed as this instance follows it: the recent changes in memory, one
 * `kv.watch` of the feed's head (so appends made by any instance arrive), and
 * one keep-alive timer, all shared by every viewer of the feed here. Viewers
 * hold a position and wait; the topic wakes them when changes arrive, and
 * tells each one silent for a heartbeat that a keep-alive is due (so a viewer
 * gets one within one to two heartbeats of silence, and an idle instance
 * wakes once per heartbeat per feed, not per viewer).
 *
 * @example
 * ```ts
 * import { FeedLog, feedScopes } from "./feed_log.ts";
 * import { FeedTopic } from "./topic.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new FeedLog(kv);
 * const topic = new FeedTopic(feedScopes.list, log, 1000);
 * await topic.start();
 * await log.commit([{ scope: feedScopes.list, changes: [{ type: "project.deleted", projectId: "p1" }] }]);
 * await topic.advance(1);
 * console.log(topic.after(0)?.length); // 1
 * topic.stop();
 * kv.close();
 * ```
 *
 * @module
 */

import type { FeedEvent } from "../protocol.ts";
import type { FeedLog } from "./feed_log.ts";
import { feedKeys } from "./feed_log.ts";

/** A viewer of a topic, as the topic sees it. */
export interface TopicViewer {
  /** New changes arrived (or the feed reset): look again. */
  wake(): void;
  /** The topic's heartbeat: send a keep-alive if silent since `now - heartbeatMs`. */
  tick(now: number): void;
}

/** Recent changes kept in memory per feed; viewers further behind read KV. */
const KEEP_IN_MEMORY = 512;

/** A feed followed by this instance. See the module docs. */
export class FeedTopic {
  readonly scope: string;
  readonly heartbeatMs: number;
  /** Changes with seq `base + 1` onward. */
  events: FeedEvent[] = [];
  base = 0;
  /** The last seq read from the feed. */
  known = 0;
  /** Counts the times the feed's head went back (its changes expired): viewers must start over. */
  resets = 0;
  readonly viewers = new Set<TopicViewer>();
  #log: FeedLog;
  #watch: ReadableStreamDefaultReader<unknown> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading: Promise<void> | null = null;
  #wanted = 0;
  #stopped = false;

  /** A topic for the feed `scope` of `log`, with keep-alives every `heartbeatMs`. */
  constructor(scope: string, log: FeedLog, heartbeatMs: number) {
    this.scope = scope;
    this.#log = log;
    this.heartbeatMs = heartbeatMs;
  }

  /** Reads the head, then watches it and starts the heartbeat. */
  async start(): Promise<void> {
    this.known = this.base = await this.#log.head(this.scope);
    const reader = this.#log.kv.watch([feedKeys.head(this.scope)]).getReader();
    this.#watch = reader;
    (async () => {
      try {
        while (!this.#stopped) {
          const { value, done } = await reader.read();
          if (done) break;
          const head = (value as Deno.KvEntryMaybe<number>[])[0]?.value;
          if (typeof head === "number") this.advance(head);
        }
      } catch (error) {
        if (!this.#stopped) console.error(`Feed ${this.scope}: watch failed:`, error);
      }
    })();
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const viewer of this.viewers) viewer.tick(now);
    }, this.heartbeatMs);
    Deno.unrefTimer(this.#timer);
  }

  /** The feed's head is `head` now: reads what is new and wakes the viewers. */
  advance(head: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (head < this.known) return this.#checkReset();
    this.#wanted = Math.max(this.#wanted, head);
    if (this.known >= this.#wanted) return this.#reading ?? Promise.resolve();
    // A read in flight reads up to `#wanted` before it ends: it clears `#reading` in the same step as its
    // last check, so a head that comes after that check starts a new read (never lost between the two).
    this.#reading ??= this.#read();
    return this.#reading;
  }

  /** The changes in memory after `seq`, or null when they left memory (read them from KV). */
  after(seq: number): FeedEvent[] | null {
    if (seq < this.base) return null;
    return this.events.slice(seq - this.base);
  }

  /** Reads changes after `seq` from KV, for a viewer behind what memory holds. */
  read(seq: number): Promise<FeedEvent[]> {
    return this.#log.read(this.scope, seq);
  }

  /** Stops the watch and the heartbeat. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watch?.cancel().catch(() => {});
    this.#watch = null;
    this.#wakeAll();
  }

  /** Whether {@linkcode FeedTopic.stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * A head below what was read: a watch's late news (ignored), or the feed's
   * changes expired and numbering started again (viewers start over).
   */
  async #checkReset(): Promise<void> {
    const head = await this.#log.head(this.scope);
    if (head >= this.known || this.#stopped) return;
    this.events = [];
    this.base = this.known = this.#wanted = head;
    this.resets++;
    this.#wakeAll();
  }

  async #read(): Promise<void> {
    try {
      while (this.known < this.#wanted && !this.#stopped) {
        const events = await this.#log.read(this.scope, this.known);
        // Every seq up to the head is committed, so a short read means they expired.
        const fresh = events.filter((e) => e.seq > this.known);
        if (fresh.length === 0 || fresh[0]!.seq !== this.known + 1) {
          this.events = [];
          this.base = this.known = fresh.at(-1)?.seq ?? this.#wanted;
        } else {
          this.events.push(...fresh);
          this.known = fresh.at(-1)!.seq;
        }
        if (this.events.length > KEEP_IN_MEMORY) {
          const drop = this.events.length - KEEP_IN_MEMORY;
          this.events.splice(0, drop);
          this.base += drop;
        }
        this.#wakeAll();
      }
    } finally {
      // In the same step as the loop's last check: a head told after it starts a new read.
      this.#reading = null;
    }
  }

  #wakeAll(): void {
    for (const viewer of this.viewers) viewer.wake();
  }
}
