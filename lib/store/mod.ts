/**
 * Every store Lantern keeps in Deno KV, opened together.
 *
 * @module
 */

import { MemoryStore } from "./memories.ts";
import { MessageStore } from "./messages.ts";
import { ProjectStore } from "./projects.ts";
import { FeedLog } from "../feeds/feed_log.ts";

export { MemoryStore, MessageStore, ProjectStore };
export { deletePrefix, isoNow, listValues, openKv } from "./kv.ts";

/** The stores over one KV. */
export interface Stores {
  kv: Deno.Kv;
  projects: ProjectStore;
  messages: MessageStore;
  memories: MemoryStore;
  /** The feeds every write of the stores (and the runs) appends its change to. */
  feed: FeedLog;
}

/** Options of {@linkcode createStores}. */
export interface StoreOptions {
  /** How long a change stays in its feed (the run TTL). */
  feedTtlMs?: number;
}

/**
 * Makes every store over an open KV.
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
export function createStores(kv: Deno.Kv, options: StoreOptions = {}): Stores {
  const feed = new FeedLog(kv, options.feedTtlMs);
  return {
    kv,
    projects: new ProjectStore(kv, feed),
    messages: new MessageStore(kv, feed),
    memories: new MemoryStore(kv, feed),
    feed,
  };
}
