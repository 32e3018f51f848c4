/**
 * A project's memories in KV: `["memories", projectId, memoryId]`.
 *
 * A memory may name its `subject`; a newer fact on the same subject
 * supersedes it (`supersededBy` is the newer one's id). Superseded memories
 * stay as history: {@linkcode MemoryStore.list} leaves them out unless asked.
 * Memories saved before subjects existed have neither field and are current.
 *
 * @module
 */

import { newId } from "../ids.ts";
import type { Memory } from "../protocol.ts";
import { FeedLog, feedScopes } from "../feeds/feed_log.ts";
import { type Bounds, checkMemoryCount, checkMemoryText, DEFAULT_BOUNDS } from "./bounds.ts";
import { isoNow, listValues } from "./kv.ts";

/** Attempts at one add before giving up (each lost attempt is another writer's success). */
const MAX_ADD_ATTEMPTS = 50;

/**
 * The key every add of a project's memories bumps, so the count checked
 * against `maxMemories` is atomic with the write (see {@linkcode MemoryStore.add}).
 *
 * @example
 * ```ts
 * import { memoryGuardKey } from "./memories.ts";
 * console.log(memoryGuardKey("p1")); // ["memory_guard", "p1"]
 * ```
 */
export function memoryGuardKey(projectId: string): Deno.KvKey {
  return ["memory_guard", projectId];
}

/** Whether a memory is current (not replaced by a newer fact). */
export function isCurrent(memory: Memory): boolean {
  return memory.supersededBy === undefined || memory.supersededBy === null;
}

/**
 * Saves, lists and deletes a project's memories.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memories.ts";
 * const kv = await Deno.openKv(":memory:");
 * const memories = new MemoryStore(kv);
 * const old = await memories.add("p1", { text: "The demo is on Friday", source: "user", subject: "demo" });
 * await memories.add("p1", { text: "The demo moved to Monday", source: "user", subject: "demo" }, [old.id]);
 * console.log((await memories.list("p1")).map((m) => m.text)); // ["The demo moved to Monday"]
 * console.log((await memories.list("p1", { history: true })).length); // 2
 * kv.close();
 * ```
 */
export class MemoryStore {
  #kv: Deno.Kv;
  #feed: FeedLog;
  #bounds: Pick<Bounds, "maxMemories" | "maxMemoryChars">;

  /** A store over an open KV, holding at most `bounds` (see lib/store/bounds.ts); its writes append to `feed`. */
  constructor(
    kv: Deno.Kv,
    bounds: Pick<Bounds, "maxMemories" | "maxMemoryChars"> = DEFAULT_BOUNDS,
    feed: FeedLog = new FeedLog(kv),
  ) {
    this.#kv = kv;
    this.#bounds = bounds;
    this.#feed = feed;
  }

  /**
   * Saves a memory with a new id. The current memories named in `replaces`
   * are marked as superseded by it, in the same atomic write; returns the
   * new memory and those it replaced (ids that are missing or already
   * replaced are skipped). Throws a `BoundExceeded` (and writes nothing)
   * for a text over `maxMemoryChars` or past `maxMemories` current memories.
   *
   * The count is atomic with the write: every add also bumps the project's
   * guard key, and commits only if the guard is as it was when the memories
   * were counted, so two adds at the bound (in this process or another)
   * cannot both pass; the one that lost counts again. A delete only lowers
   * the count, so it needs no guard.
   */
  async add(
    projectId: string,
    fields: Pick<Memory, "text" | "source"> & { runId?: string; subject?: string },
    replaces: readonly string[] = [],
  ): Promise<Memory & { replaced?: Memory[] }> {
    checkMemoryText(fields.text, this.#bounds);
    const memory: Memory = {
      id: newId(),
      ...fields,
      ...(fields.subject ? { supersededBy: null } : {}),
      createdAt: isoNow(),
    };
    for (let attempt = 1;; attempt++) {
      // Read before the count: an add committed after this read makes this commit's check fail.
      const guard = this.#bounds.maxMemories > 0
        ? await this.#kv.get<number>(memoryGuardKey(projectId))
        : null;
      // Memories replaced meanwhile (by another run) are skipped: the fact is saved rather than lost.
      const replaced: { entry: Deno.KvEntry<Memory>; old: Memory }[] = [];
      for (const id of new Set(replaces)) {
        const entry = await this.#kv.get<Memory>(["memories", projectId, id]);
        if (entry.value === null || !isCurrent(entry.value)) continue;
        replaced.push({ entry, old: { ...entry.value, supersededBy: memory.id } });
      }
      if (guard) checkMemoryCount((await this.list(projectId)).length, replaced.length, this.#bounds);
      const done = await this.#feed.commit([{
        scope: feedScopes.project(projectId),
        changes: [
          { type: "memory.added", memory },
          ...replaced.map(({ old }) => ({
            type: "memory.removed" as const,
            memoryId: old.id,
            reason: "superseded" as const,
          })),
        ],
      }], (op) => {
        for (const { entry, old } of replaced) op.check(entry).set(entry.key, old);
        if (guard) op.check(guard).set(guard.key, (guard.value ?? 0) + 1);
        op.set(["memories", projectId, memory.id], memory);
      });
      if (done) return replaced.length > 0 ? { ...memory, replaced: replaced.map((r) => r.old) } : memory;
      // Each failed check means another add or replace went through: the retries end.
      if (attempt >= MAX_ADD_ATTEMPTS) {
        throw new Error(`Saving the memory "${fields.text.slice(0, 60)}" lost ${attempt} races in a row.`);
      }
    }
  }

  /** A project's current memories, oldest first; with `history`, superseded ones too. */
  async list(projectId: string, options: { history?: boolean } = {}): Promise<Memory[]> {
    const all = await listValues<Memory>(this.#kv, ["memories", projectId]);
    return options.history ? all : all.filter(isCurrent);
  }

  /** One memory, or null. */
  async get(projectId: string, memoryId: string): Promise<Memory | null> {
    return (await this.#kv.get<Memory>(["memories", projectId, memoryId])).value;
  }

  /**
   * Deletes a memory and returns it, or null when there was none. The
   * history it replaced goes with it: a forgotten fact leaves no trace.
   */
  async delete(projectId: string, memoryId: string): Promise<Memory | null> {
    const key = ["memories", projectId, memoryId];
    const entry = await this.#kv.get<Memory>(key);
    if (entry.value === null) return null;
    const done = await this.#feed.commit(
      [{
        scope: feedScopes.project(projectId),
        changes: [{ type: "memory.removed", memoryId, reason: "forgotten" }],
      }],
      (op) => op.check(entry).delete(key),
    );
    // Deleted meanwhile by someone else, who told the feed.
    if (!done) return null;
    if (entry.value.subject) {
      for (const old of await this.list(projectId, { history: true })) {
        if (old.supersededBy === memoryId) await this.delete(projectId, old.id);
      }
    }
    return entry.value;
  }
}
