/**
 * Every store Lantern keeps in Deno KV, opened together.
 *
 * @module
 */

import { type Bounds, DEFAULT_BOUNDS } from "./bounds.ts";
import { MemoryStore } from "./memories.ts";
import { MessageStore } from "./messages.ts";
import { OutputStore } from "./outputs.ts";
import { ProjectStore } from "./projects.ts";
import { FeedLog } from "../feeds/feed_log.ts";
import { RecentContextReader } from "./recent_context.ts";

export { MemoryStore, MessageStore, OutputStore, ProjectStore, RecentContextReader };
export { deletePrefix, isoNow, listValues, openKv, whileLocked } from "./kv.ts";
export { type Bounds, DEFAULT_BOUNDS } from "./bounds.ts";

/** The stores over one KV. */
export interface Stores {
  kv: Deno.Kv;
  projects: ProjectStore;
  messages: MessageStore;
  memories: MemoryStore;
  /** The feeds every write of the stores (and the runs) appends its change to. */
  feed: FeedLog;
  /** A run's context (latest messages, memories), kept between runs and checked with one read. */
  context: RecentContextReader;
  /** Tool outputs too large for their `action` event, kept whole. */
  outputs: OutputStore;
  /** What a project may hold and a run may produce. */
  bounds: Bounds;
}

/**
 * Makes every store over an open KV, within `bounds`; whole tool outputs
 * expire after `outputTtlMs` when given (the run log's TTL).
 *
 * @example
 * ```ts
 * import { createStores } from "./mod.ts";
 * const kv = await Deno.openKv(":memory:");
 * const stores = createStores(kv);
 * console.log((await stores.projects.list()).length); // 0
 * kv.close();
 * ```
 */
export function createStores(kv: Deno.Kv, bounds: Bounds = DEFAULT_BOUNDS, ttlMs?: number): Stores {
  const feed = new FeedLog(kv, ttlMs);
  const messages = new MessageStore(kv, feed);
  const memories = new MemoryStore(kv, bounds, feed);
  return {
    kv,
    projects: new ProjectStore(kv, feed),
    messages,
    memories,
    context: new RecentContextReader(kv, messages, memories, feed),
    outputs: new OutputStore(kv, ttlMs),
    bounds,
    feed,
  };
}
