/**
 * This instance's feeds: one {@linkcode FeedTopic} (one KV watch, one
 * keep-alive timer) per feed that has viewers here, shared by all of them,
 * and gone with the last one. Appends committed here reach the topic at once;
 * appends of other instances and isolates come through the topic's watch.
 *
 * @example
 * ```ts
 * import { FeedLog, feedScopes } from "./feed_log.ts";
 * import { FeedHub } from "./hub.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new FeedLog(kv);
 * const hub = new FeedHub(log, { heartbeatMs: 1000 });
 * const viewer = await hub.subscribe(feedScopes.list, null);
 * await log.commit([{ scope: feedScopes.list, changes: [{ type: "project.deleted", projectId: "p1" }] }]);
 * const step = await viewer.next();
 * console.log(step.kind, hub.stats().watches); // frames 1
 * viewer.close();
 * hub.close();
 * kv.close();
 * ```
 *
 * @module
 */

import type { HeldFeed } from "../runs/remote.ts";
import type { FeedLog } from "./feed_log.ts";
import type { FeedPosition } from "./position.ts";
import { type FeedStep, FeedSubscription } from "./subscription.ts";
import { FeedTopic } from "./topic.ts";

/** Options of a {@linkcode FeedHub}. */
export interface FeedHubOptions {
  /** Keep-alives after this much silence (`LANTERN_HEARTBEAT_MS`). */
  heartbeatMs: number;
  /** When it aborts, every viewer ends with `shutdown`. */
  shutdown?: AbortSignal;
}

/** Options of {@linkcode FeedHub.subscribe}. */
export interface SubscribeOptions {
  /** Opens a run's feed, for project feeds that carry their runs' events. */
  openRun?: (runId: string) => Promise<HeldFeed | null>;
  /** Runs to follow from their start when the viewer starts now (no position). */
  running?: () => Promise<string[]>;
  /** When it aborts, the viewer ends. */
  signal?: AbortSignal;
}

/** What the hub holds open, for tests and stats. */
export interface FeedHubStats {
  /** Feeds followed here. */
  topics: number;
  /** KV watches open (one per topic). */
  watches: number;
  /** Keep-alive timers (one per topic). */
  timers: number;
  /** Viewers attached. */
  viewers: number;
}

/** A viewer as {@linkcode FeedHub.subscribe} hands it out. */
export interface FeedViewer {
  /** The position after what was handed out (the last frame's `id:`). */
  readonly position: string;
  next(): Promise<FeedStep>;
  close(): void;
}

/** This instance's feeds. See the module docs. */
export class FeedHub {
  readonly log: FeedLog;
  #options: FeedHubOptions;
  #topics = new Map<string, Promise<FeedTopic>>();
  #live = new Map<string, FeedTopic>();
  #unlisten: () => void;

  /** The feeds of `log`, followed with `options`. */
  constructor(log: FeedLog, options: FeedHubOptions) {
    this.log = log;
    this.#options = options;
    this.#unlisten = log.onAppend(({ scope, head }) => this.#live.get(scope)?.advance(head));
  }

  /**
   * A viewer of the feed `scope` after `position`, or from now when it is
   * null (then `options.running` names the runs already going, followed from
   * their first event).
   */
  async subscribe(
    scope: string,
    position: FeedPosition | null,
    options: SubscribeOptions = {},
  ): Promise<FeedViewer> {
    let topic = await this.#topic(scope);
    // The last viewer of that topic left meanwhile.
    while (topic.stopped) topic = await this.#topic(scope);
    const start = position ?? { seq: topic.known, runs: new Map() };
    if (!position && options.running) {
      for (const runId of await options.running()) start.runs.set(runId, 0);
    }
    const viewer = new FeedSubscription(topic, start, {
      openRun: options.openRun,
      shutdown: this.#options.shutdown,
      signal: options.signal,
    });
    await viewer.init();
    const drop = () => this.#drop(scope, topic);
    return {
      get position() {
        return viewer.position;
      },
      next: () => viewer.next(),
      close() {
        if (viewer.close() && topic.viewers.size === 0) drop();
      },
    };
  }

  /** What the hub holds open now. */
  stats(): FeedHubStats {
    let viewers = 0;
    for (const topic of this.#live.values()) viewers += topic.viewers.size;
    const n = this.#live.size;
    return { topics: n, watches: n, timers: n, viewers };
  }

  /** Stops every topic (at shutdown). */
  close(): void {
    this.#unlisten();
    for (const topic of this.#live.values()) topic.stop();
    this.#live.clear();
    this.#topics.clear();
  }

  #topic(scope: string): Promise<FeedTopic> {
    let pending = this.#topics.get(scope);
    if (!pending) {
      const topic = new FeedTopic(scope, this.log, this.#options.heartbeatMs);
      pending = topic.start().then(() => {
        this.#live.set(scope, topic);
        return topic;
      });
      this.#topics.set(scope, pending);
      pending.catch(() => this.#topics.delete(scope));
    }
    return pending;
  }

  #drop(scope: string, topic: FeedTopic): void {
    if (this.#live.get(scope) !== topic) return;
    topic.stop();
    this.#live.delete(scope);
    this.#topics.delete(scope);
  }
}
