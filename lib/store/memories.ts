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
import { Turns } from "../turns.ts";
import { isoNow, listValues } from "./kv.ts";

/** Attempts at one write before giving up (each lost attempt is another process's success). */
const MAX_ATTEMPTS = 50;

/**
 * Where a project's count of current memories is kept: every write that
 * changes it checks and updates it in its own commit, so the count checked
 * against `maxMemories` is atomic with the write (see {@linkcode MemoryStore.add}).
 *
 * @example
 * ```ts
 * import { memoryCountKey } from "./memories.ts";
 * console.log(memoryCountKey("p1")); // ["memory_count", "p1"]
 * ```
 */
export function memoryCountKey(projectId: string): Deno.KvKey {
  return ["memory_count", projectId];
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
  /** Writes to one project take turns in this process (see {@linkcode MemoryStore.add}). */
  #turns = new Turns();

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
   * The count is atomic with the write: the project's count of current
   * memories ({@linkcode memoryCountKey}) is checked and updated in the same
   * commit as the memory, so two adds at the bound (in this process or
   * another) cannot both pass; the one that lost reads the count again.
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
    // Writes to one project from this process take turns: only another process's write can cost a retry.
    return await this.#turns.run([projectId], async () => {
      for (let attempt = 1;; attempt++) {
        const count = await this.#count(projectId);
        // Memories replaced meanwhile (by another run) are skipped: the fact is saved rather than lost.
        const replaced: { entry: Deno.KvEntry<Memory>; old: Memory }[] = [];
        for (const id of new Set(replaces)) {
          const entry = await this.#kv.get<Memory>(["memories", projectId, id]);
          if (entry.value === null || !isCurrent(entry.value)) continue;
          replaced.push({ entry, old: { ...entry.value, supersededBy: memory.id } });
        }
        checkMemoryCount(count.current, replaced.length, this.#bounds);
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
          op.check(count.entry).set(count.entry.key, count.current + 1 - replaced.length);
          op.set(["memories", projectId, memory.id], memory);
        });
        if (done) return replaced.length > 0 ? { ...memory, replaced: replaced.map((r) => r.old) } : memory;
        // Each failed check means another process's write went through: the retries end.
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`Saving the memory "${fields.text.slice(0, 60)}" lost ${attempt} races in a row.`);
        }
      }
    });
  }

  /**
   * The project's count of current memories and the entry it is kept in.
   * A project from before the count (or an import) has none yet: it is
   * counted once, and the first write stores it (its check on the absent
   * entry fails if another write stored it first).
   */
  async #count(projectId: string): Promise<{ entry: Deno.KvEntryMaybe<number>; current: number }> {
    const entry = await this.#kv.get<number>(memoryCountKey(projectId));
    const current = entry.value ?? (await this.list(projectId)).length;
    return { entry, current };
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
    const removed = await this.#turns.run([projectId], async () => {
      for (let attempt = 1;; attempt++) {
        const count = await this.#count(projectId);
        const entry = await this.#kv.get<Memory>(key);
        if (entry.value === null) return null;
        const current = count.current - (isCurrent(entry.value) ? 1 : 0);
        const done = await this.#feed.commit(
          [{
            scope: feedScopes.project(projectId),
            changes: [{ type: "memory.removed", memoryId, reason: "forgotten" }],
          }],
          (op) => op.check(entry, count.entry).delete(key).set(count.entry.key, Math.max(0, current)),
        );
        if (done) return entry.value;
        // Deleted meanwhile by someone else (who told the feed), or the count moved: read again.
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`Forgetting the memory "${memoryId}" lost ${attempt} races in a row.`);
        }
      }
    });
    if (removed?.subject) {
      for (const old of await this.list(projectId, { history: true })) {
        if (old.supersededBy === memoryId) await this.delete(projectId, old.id);
      }
    }
    return removed;
  }
}
