/**
 * A project's conversation in KV: `["messages", projectId, messageId]`, ids
 * sorted by time so a list is oldest first. A message too long for one KV
 * value (a long answer) keeps its text in parts (lib/store/chunks.ts); every
 * read here returns it whole.
 *
 * @module
 */

import { newId } from "../ids.ts";
import type { FeedChange, Message, MessageStatus } from "../protocol.ts";
import { partKey, restoreSpilled, type Spilled, spillIfLarge } from "./chunks.ts";
import { isoNow, listValues } from "./kv.ts";
import { FeedLog, feedScopes } from "../feeds/feed_log.ts";

/** The most characters of a message a feed's `message.added` carries (KV values are at most 64 KiB). */
export const FEED_MESSAGE_CHARS = 8_000;

/** A message as a feed carries it: a long one cut, and marked so (read it whole from the messages API). */
function forFeed(message: Message): Message & { truncated?: true } {
  if (message.content.length <= FEED_MESSAGE_CHARS) return message;
  return { ...message, content: message.content.slice(0, FEED_MESSAGE_CHARS), truncated: true };
}

/**
 * A project's count of edits to its conversation other than appends (a
 * status mark, a removed reply). Appends move the project's feed head; these
 * move this key, so that a copy of the conversation kept in memory (see
 * recent_context.ts) knows it is out of date, on every instance.
 *
 * @example
 * ```ts
 * import { messageEditsKey } from "./messages.ts";
 * console.log(messageEditsKey("p1")); // ["message_edits", "p1"]
 * ```
 */
export function messageEditsKey(projectId: string): Deno.KvKey {
  return ["message_edits", projectId];
}

/**
 * Counts an edit of a project's conversation in `op` (see
 * {@linkcode messageEditsKey}); every write to a message that is not an
 * append adds it to its commit.
 *
 * @example
 * ```ts
 * import { countEdit } from "./messages.ts";
 * const kv = await Deno.openKv(":memory:");
 * await countEdit(kv.atomic().delete(["messages", "p1", "m1"]), "p1").commit();
 * console.log((await kv.get<Deno.KvU64>(["message_edits", "p1"])).value?.value); // 1n
 * kv.close();
 * ```
 */
export function countEdit(op: Deno.AtomicOperation, projectId: string): Deno.AtomicOperation {
  return op.sum(messageEditsKey(projectId), 1n);
}

/** A message ready to be written: see {@linkcode MessageStore.prepare}. */
export interface PreparedMessage {
  key: Deno.KvKey;
  /** The value for `key`. */
  stored: unknown;
  /** How many parts its text was already written in (0: it is whole in `stored`). */
  parts: number;
  /** The project feed's change for it. */
  change: FeedChange;
}

/**
 * Appends to and reads a project's conversation.
 *
 * @example
 * ```ts
 * import { MessageStore } from "./messages.ts";
 * const kv = await Deno.openKv(":memory:");
 * const messages = new MessageStore(kv);
 * await messages.add("p1", { role: "user", content: "Hello", runId: null });
 * console.log((await messages.list("p1")).length); // 1
 * kv.close();
 * ```
 */
export class MessageStore {
  #kv: Deno.Kv;
  #feed: FeedLog;

  /** A store over an open KV; its writes append their changes to `feed`. */
  constructor(kv: Deno.Kv, feed: FeedLog = new FeedLog(kv)) {
    this.#kv = kv;
    this.#feed = feed;
  }

  /** Builds a message record with a new id (not yet saved). */
  build(fields: Pick<Message, "role" | "content" | "runId">): Message {
    return { id: newId(), ...fields, createdAt: isoNow() };
  }

  /** The KV key of a message. */
  key(projectId: string, messageId: string): Deno.KvKey {
    return ["messages", projectId, messageId];
  }

  /** Appends a message to a project's conversation. */
  async add(
    projectId: string,
    fields: Pick<Message, "role" | "content" | "runId">,
  ): Promise<Message> {
    const message = this.build(fields);
    await this.save(projectId, message);
    return message;
  }

  /** Appends a built message (see {@linkcode MessageStore.build}) to a project's conversation. */
  async save(projectId: string, message: Message): Promise<void> {
    const { key, stored, change } = await this.prepare(projectId, message);
    await this.#feed.commit(
      [{ scope: feedScopes.project(projectId), changes: [change] }],
      (op) => op.set(key, stored),
    );
  }

  /**
   * A built message made ready for a commit of the caller's: its key, the
   * value to set there (a long text already written in parts, which
   * `parts` counts), and the change that tells the project's feed. A run's
   * reply goes out so, in the commit that ends the run.
   */
  async prepare(projectId: string, message: Message): Promise<PreparedMessage> {
    const key = this.key(projectId, message.id);
    const stored = await spillIfLarge(this.#kv, key, message, "content");
    return {
      key,
      stored,
      parts: "spilled" in stored ? stored.spilled.parts : 0,
      change: { type: "message.added", message: forFeed(message) },
    };
  }

  /** The conversation, oldest first (at most `limit` latest when given), each message whole. */
  async list(projectId: string, limit?: number): Promise<Message[]> {
    const stored = limit === undefined
      ? await listValues<Message>(this.#kv, ["messages", projectId])
      : (await listValues<Message>(this.#kv, ["messages", projectId], { reverse: true, limit })).reverse();
    return await Promise.all(stored.map((m) => this.#whole(projectId, m)));
  }

  /** A stored message with its text put back when it was kept in parts. */
  #whole(projectId: string, message: Message): Promise<Message> | Message {
    return "spilled" in message
      ? restoreSpilled(this.#kv, this.key(projectId, message.id), message)
      : message;
  }

  /** How many messages a project's conversation has, in all and from the user. */
  async count(projectId: string): Promise<{ total: number; user: number }> {
    let total = 0;
    let user = 0;
    for await (
      const entry of this.#kv.list<Message>({ prefix: ["messages", projectId] }, { batchSize: 500 })
    ) {
      total++;
      if (entry.value.role === "user") user++;
    }
    return { total, user };
  }

  /**
   * The keys of a run's assistant replies, which should not exist unless it
   * succeeded (with the keys of a long reply's parts, so deleting them all
   * leaves nothing). Replies come after the user's message `fromId`, and
   * message ids sort by time, so the search starts there.
   */
  async repliesOf(projectId: string, fromId: string, runId: string): Promise<Deno.KvKey[]> {
    const keys: Deno.KvKey[] = [];
    const iter = this.#kv.list<Message>({
      prefix: ["messages", projectId],
      start: this.key(projectId, fromId),
    }, {
      limit: 500,
    });
    for await (const entry of iter) {
      if (entry.value.role !== "assistant" || entry.value.runId !== runId) continue;
      keys.push(entry.key);
      const parts = (entry.value as Message & { spilled?: Spilled }).spilled?.parts ?? 0;
      for (let n = 0; n < parts; n++) keys.push(partKey(entry.key, n));
    }
    return keys;
  }

  /** Marks a user message as left without an answer. */
  async mark(projectId: string, messageId: string, status: MessageStatus): Promise<void> {
    const key = this.key(projectId, messageId);
    const entry = await this.#kv.get<Message>(key);
    if (entry.value === null) return;
    await countEdit(this.#kv.atomic().check(entry).set(key, { ...entry.value, status }), projectId).commit();
  }
}
