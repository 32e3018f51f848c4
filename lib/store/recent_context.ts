/**
 * What a run's context step reads, the latest messages of a project's
 * conversation and its current memories, kept in memory between runs and
 * checked against KV with one read of three keys instead of two lists.
 *
 * A copy is current while three versionstamps have not moved: the project
 * feed's head (every append to the conversation moves it), the count of the
 * conversation's other edits (`messageEditsKey`) and the memory count (every
 * memory write sets it). This instance's own appends are applied to its copy
 * as they commit, when the copy was current just before them; anything else,
 * from this instance or another, makes the next read list again. A read
 * takes the versionstamps before it lists, so a write racing the list can
 * only make the copy look older than it is.
 *
 * A run's start commit can stand in for that read: its append to the feed
 * checks the head (which every memory write moves too), and
 * {@linkcode RecentContextReader.guard} adds a check of the edit count. Once
 * it commits, the copy is known current at that moment, and the run's
 * context step takes it with no read at all (the read cost a run about a
 * tenth of its CPU). When a check fails, because another instance wrote
 * meanwhile, the copy is dropped and the start goes again without it; the
 * next read lists. A run's context is so the project as it stood at the
 * run's start: this instance's later writes clear the vouch (the step
 * reads), another instance's reach the next run.
 *
 * @example
 * ```ts
 * import { createStores } from "./mod.ts";
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const project = await stores.projects.create("Demo");
 * await stores.messages.add(project.id, { role: "user", content: "Hello", runId: null });
 * const { messages, memories } = await stores.context.read(project.id, 41);
 * console.log(messages.length, memories.length); // 1 0
 * stores.kv.close();
 * ```
 *
 * @module
 */

import type { FeedChange, Memory, Message } from "../protocol.ts";
import { type AppendListener, feedKeys, type FeedLog, feedScopes } from "../feeds/feed_log.ts";
import { messageEditsKey, type MessageStore } from "./messages.ts";
import { memoryCountKey, type MemoryStore } from "./memories.ts";

/** How many projects' copies are kept; the one used longest ago goes first. */
const KEPT_PROJECTS = 200;

interface Copy {
  /** The feed head's and the edit count's versionstamps the messages are current at, or null. */
  head: string | null;
  edits: string | null;
  /** The latest messages, oldest first, or null when they must be listed again. */
  messages: Message[] | null;
  /** Whether `messages` is the whole conversation. */
  whole: boolean;
  /** How many messages were asked for (appends beyond it push the oldest out). */
  limit: number;
  memoryCount: string | null;
  memories: Memory[] | null;
  /** The versionstamp of the start commit that found the whole copy current, until a read takes it. */
  confirmed: string | null;
  /** A start commit carries a check of this copy's edit count and has not committed yet. */
  guarded: boolean;
}

/** A project's latest messages and current memories. */
export interface RecentContext {
  /** At most the asked number of latest messages, oldest first. */
  messages: Message[];
  memories: Memory[];
}

const PROJECT_SCOPE = feedScopes.project("");

/** Reads the context step's messages and memories. See the module docs. */
export class RecentContextReader {
  readonly #kv: Deno.Kv;
  readonly #messages: MessageStore;
  readonly #memories: MemoryStore;
  readonly #copies = new Map<string, Copy>();

  /** A reader over the stores; it follows this instance's appends through `feed`. */
  constructor(kv: Deno.Kv, messages: MessageStore, memories: MemoryStore, feed: FeedLog) {
    this.#kv = kv;
    this.#messages = messages;
    this.#memories = memories;
    feed.onAppend(this.#apply);
  }

  /**
   * Adds to a run's start commit (which appends to the project's feed) a check that the project's copy
   * is current: the feed's head, which every message and memory write moves, is checked by the append
   * itself; this adds the edit count as the copy read it. A failed check fails the commit; the next call
   * drops the copy and adds none.
   */
  guard(op: Deno.AtomicOperation, projectId: string): void {
    const copy = this.#copies.get(projectId);
    if (!copy) return;
    if (copy.guarded) {
      // The last commit with these checks did not go through: they may be why.
      Object.assign(copy, { guarded: false, confirmed: null, messages: null, memories: null });
      return;
    }
    if (copy.messages === null || copy.memories === null) return;
    // A memory's write appends to the feed, whose head the start's append checks already (and a commit
    // carries at most 100 checks, so each one saved lets more starts share a commit).
    op.check({ key: messageEditsKey(projectId), versionstamp: copy.edits });
    copy.guarded = true;
  }

  /** Forgets a project's copy: a start commit with its check did not go through (the next read lists). */
  drop(projectId: string): void {
    this.#copies.delete(projectId);
  }

  /** The latest `limit` messages of a project and its current memories. */
  async read(projectId: string, limit: number): Promise<RecentContext> {
    const known = this.#copies.get(projectId);
    if (
      known?.confirmed && known.confirmed === known.head && known.messages && known.memories &&
      (known.whole || known.messages.length >= limit)
    ) {
      // Current as of the run's start commit, and nothing appended since: no read.
      known.confirmed = null;
      this.#copies.delete(projectId);
      this.#copies.set(projectId, known);
      return { messages: known.messages.slice(-limit), memories: known.memories.slice() };
    }
    const [head, edits, memoryCount] = await this.#kv.getMany<[number, Deno.KvU64, number]>([
      feedKeys.head(feedScopes.project(projectId)),
      messageEditsKey(projectId),
      memoryCountKey(projectId),
    ]);
    const copy = this.#copies.get(projectId) ?? {
      head: null,
      edits: null,
      messages: null,
      whole: false,
      limit,
      memoryCount: null,
      memories: null,
      confirmed: null,
      guarded: false,
    };
    // Taken out while it is read: an append committed meanwhile cannot be applied to it twice.
    this.#copies.delete(projectId);
    const messagesCurrent = copy.messages !== null && copy.head === head.versionstamp &&
      copy.edits === edits.versionstamp && (copy.whole || copy.messages.length >= limit);
    const memoriesCurrent = copy.memories !== null && copy.memoryCount === memoryCount.versionstamp;
    const [messages, memories] = await Promise.all([
      messagesCurrent ? copy.messages!.slice(-limit) : this.#messages.list(projectId, limit),
      memoriesCurrent ? copy.memories!.slice() : this.#memories.list(projectId),
    ]);
    if (!messagesCurrent) {
      Object.assign(copy, {
        head: head.versionstamp,
        edits: edits.versionstamp,
        whole: messages.length < limit,
      });
      copy.messages = messages.slice();
    }
    copy.limit = limit;
    if (!memoriesCurrent) {
      Object.assign(copy, { memoryCount: memoryCount.versionstamp, memories: memories.slice() });
    }
    this.#copies.set(projectId, copy);
    if (this.#copies.size > KEPT_PROJECTS) this.#copies.delete(this.#copies.keys().next().value!);
    return { messages, memories };
  }

  /**
   * An append this instance committed: applied to a copy current just before it, or the copy is dropped.
   * A memory's changes commit with the memory count, so they move the copy's count on too.
   */
  #apply: AppendListener = ({ scope, before, after, changes }) => {
    if (!scope.startsWith(PROJECT_SCOPE)) return;
    const projectId = scope.slice(PROJECT_SCOPE.length);
    const copy = this.#copies.get(projectId);
    if (!copy) return;
    if (changes.some((change) => change.type === "project.deleted")) {
      this.#copies.delete(projectId);
      return;
    }
    // Only the start's own append (its `run.started`) carried the guard's check.
    const guarded = copy.guarded && changes.some((change) => change.type === "run.started");
    copy.guarded = false;
    copy.confirmed = null;
    if (!copy.messages) return;
    if (copy.head !== before) {
      copy.messages = null;
      return;
    }
    for (const change of changes) {
      if (change.type === "message.added") {
        // A long message travels cut in its feed: the copy would not be whole.
        if (change.message.truncated) {
          copy.messages = null;
          return;
        }
        insertById(copy.messages, change.message);
        if (copy.messages.length > copy.limit) {
          copy.messages.shift();
          copy.whole = false;
        }
      } else if (change.type === "run.ended" && change.status !== "succeeded") {
        // Its user's message was marked, and the edit count moved, in the same commit.
        copy.messages = null;
        return;
      } else if (change.type === "memory.added" || change.type === "memory.removed") {
        copy.memories = applyMemory(copy.memories, change);
        copy.memoryCount = after;
      }
    }
    copy.head = after;
    if (guarded) copy.confirmed = after;
  };
}

/** The current memories after a memory's change (null stays null: they are listed at the next read). */
function applyMemory(
  memories: Memory[] | null,
  change: Extract<FeedChange, { type: "memory.added" | "memory.removed" }>,
): Memory[] | null {
  if (memories === null) return null;
  if (change.type === "memory.removed") return memories.filter((m) => m.id !== change.memoryId);
  insertById(memories, change.memory);
  return memories;
}

/** Puts a message or a memory in its place by id (ids sort by time), as a list of them would. */
function insertById<T extends { id: string }>(items: T[], item: T): void {
  let i = items.length;
  while (i > 0 && items[i - 1]!.id > item.id) i--;
  items.splice(i, 0, item);
}
