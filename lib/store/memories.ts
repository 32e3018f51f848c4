/**
 * A project's memories in KV: `["memories", projectId, memoryId]`.
 *
 * @module
 */

import { newId } from "../ids.ts";
import type { Memory } from "../protocol.ts";
import { isoNow, listValues } from "./kv.ts";

/**
 * Saves, lists and deletes a project's memories.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memories.ts";
 * const kv = await Deno.openKv(":memory:");
 * const memories = new MemoryStore(kv);
 * await memories.add("p1", { text: "The demo is on Friday", source: "user" });
 * console.log((await memories.list("p1"))[0]?.text); // The demo is on Friday
 * kv.close();
 * ```
 */
export class MemoryStore {
  #kv: Deno.Kv;

  /** A store over an open KV. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Saves a memory with a new id. */
  async add(
    projectId: string,
    fields: Pick<Memory, "text" | "source"> & { runId?: string },
  ): Promise<Memory> {
    const memory: Memory = { id: newId(), ...fields, createdAt: isoNow() };
    await this.#kv.set(["memories", projectId, memory.id], memory);
    return memory;
  }

  /** Every memory of a project, oldest first. */
  list(projectId: string): Promise<Memory[]> {
    return listValues<Memory>(this.#kv, ["memories", projectId]);
  }

  /** One memory, or null. */
  async get(projectId: string, memoryId: string): Promise<Memory | null> {
    return (await this.#kv.get<Memory>(["memories", projectId, memoryId])).value;
  }

  /** Deletes a memory and returns it, or null when there was none. */
  async delete(projectId: string, memoryId: string): Promise<Memory | null> {
    const key = ["memories", projectId, memoryId];
    const entry = await this.#kv.get<Memory>(key);
    if (entry.value === null) return null;
    await this.#kv.delete(key);
    return entry.value;
  }
}
