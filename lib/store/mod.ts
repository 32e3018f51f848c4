/**
 * Every store Lantern keeps in Deno KV, opened together.
 *
 * @module
 */

import { MemoryStore } from "./memories.ts";
import { MessageStore } from "./messages.ts";
import { ProjectStore } from "./projects.ts";

export { MemoryStore, MessageStore, ProjectStore };
export { deletePrefix, isoNow, listValues, openKv } from "./kv.ts";

/** The stores over one KV. */
export interface Stores {
  kv: Deno.Kv;
  projects: ProjectStore;
  messages: MessageStore;
  memories: MemoryStore;
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
export function createStores(kv: Deno.Kv): Stores {
  return {
    kv,
    projects: new ProjectStore(kv),
    messages: new MessageStore(kv),
    memories: new MemoryStore(kv),
  };
}
