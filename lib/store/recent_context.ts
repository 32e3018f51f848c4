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

import type { Memory, Message } from "../protocol.ts";
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

  /** The latest `limit` messages of a project and its current memories. */
  async read(projectId: string, limit: number): Promise<RecentContext> {
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

  /** An append this instance committed: applied to a copy current just before it, or the copy is dropped. */
  #apply: AppendListener = ({ scope, before, after, changes }) => {
    if (!scope.startsWith(PROJECT_SCOPE)) return;
    const copy = this.#copies.get(scope.slice(PROJECT_SCOPE.length));
    if (!copy?.messages) return;
    if (copy.head !== before) {
      copy.messages = null;
      return;
    }
    for (const change of changes) {
      if (change.type !== "message.added") continue;
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
    }
    copy.head = after;
  };
}

/** Puts a message in its place by id (ids sort by time), as a list of the conversation would. */
function insertById(messages: Message[], message: Message): void {
  let i = messages.length;
  while (i > 0 && messages[i - 1]!.id > message.id) i--;
  messages.splice(i, 0, message);
}
