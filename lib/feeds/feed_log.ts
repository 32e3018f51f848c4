/**
 * The durable feeds of Lantern, in KV: one numbered list of changes per
 * project and one for the project list. A change is appended in the same
 * atomic commit as the write it tells of, so a feed never says something that
 * did not happen, and never misses what did. The feed's head (its last
 * number) is checked in that commit: appends are serialised per feed, and
 * every number up to the head is committed. Instances learn of appends by
 * watching the head (`kv.watch`), and this instance at once through
 * {@linkcode FeedLog.onAppend}.
 *
 * @example
 * ```ts
 * import { FeedLog, feedScopes } from "./feed_log.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new FeedLog(kv);
 * await log.commit([{ scope: feedScopes.list, changes: [{ type: "project.deleted", projectId: "p1" }] }]);
 * console.log((await log.read(feedScopes.list, 0)).map((e) => e.seq)); // [ 1 ]
 * kv.close();
 * ```
 *
 * @module
 */

import { Turns } from "../turns.ts";
import { type CommitGroup, groupCommits } from "../store/group_commit.ts";
import type { FeedChange, FeedEvent } from "../protocol.ts";

/** The feeds there are. */
export const feedScopes = {
  /** The project list: created, renamed, deleted. */
  list: "projects",
  /** What happens in one project. */
  project: (projectId: string): string => `project:${projectId}`,
} as const;

/** The KV keys of feeds. */
export const feedKeys = {
  /** One change of a feed. */
  event: (scope: string, seq: number): Deno.KvKey => ["feed", scope, seq],
  /** Every change of a feed. */
  events: (scope: string): Deno.KvKey => ["feed", scope],
  /** A feed's last number, which changes with every append (instances watch it). */
  head: (scope: string): Deno.KvKey => ["feed_head", scope],
} as const;

/** Changes for one feed, appended together. */
export interface FeedAppend {
  scope: string;
  changes: FeedChange[];
}

/**
 * An append this instance committed: the feed, its new head, the changes,
 * and the versionstamps of the head just before and after it (whoever knew
 * the head as `before` now knows it as `after` by applying `changes`).
 */
export interface Appended {
  scope: string;
  head: number;
  changes: readonly FeedChange[];
  before: string | null;
  after: string;
}

/** Called after each append this instance commits. */
export type AppendListener = (appended: Appended) => void;

/** The most changes {@linkcode FeedLog.read} returns at once. */
export const FEED_READ_BATCH = 256;

/** How many feeds' heads an instance remembers between its appends. */
const KNOWN_HEADS = 1_000;

/** The default time a change stays in its feed: as long as a run's log. */
const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

/** Appends to feeds and reads them back. See the module docs. */
export class FeedLog {
  readonly kv: Deno.Kv;
  readonly ttlMs: number;
  #listeners = new Set<AppendListener>();
  #turns = new Turns();
  #heads = new Map<string, Deno.KvEntryMaybe<number>>();
  /** Appends to different feeds at about the same moment share a commit. */
  #group: CommitGroup;

  /** Feeds in `kv`; a change stays readable for `ttlMs` (the run TTL by default). */
  constructor(kv: Deno.Kv, ttlMs = DEFAULT_TTL_MS) {
    this.kv = kv;
    this.ttlMs = ttlMs;
    this.#group = groupCommits(kv);
  }

  /**
   * Commits `appends` together with the writes `build` adds to the same
   * atomic operation. `build` runs once per attempt, on a fresh operation.
   * Returns each feed's new head by scope, or null (and writes nothing) when
   * a check that `build` added fails; a race with another append to the
   * same feed is retried.
   */
  async commit(
    appends: FeedAppend[],
    build?: (op: Deno.AtomicOperation) => void,
  ): Promise<Record<string, number> | null> {
    const wanted = appends.filter((a) => a.changes.length > 0);
    // Appends to a feed from this instance wait their turn: racing for its head would cost a retry
    // per writer per commit (quadratic); other instances' appends are rare and retried.
    return await this.#turns.run(wanted.map((a) => a.scope), () => this.#commit(wanted, build));
  }

  /**
   * Resolves once every append begun so far has committed or failed (appends
   * of a moment share a commit that goes out a moment later): what a
   * shutdown waits for before it closes the KV.
   */
  settled(): Promise<void> {
    return this.#turns.settled();
  }

  async #commit(
    wanted: FeedAppend[],
    build?: (op: Deno.AtomicOperation) => void,
  ): Promise<Record<string, number> | null> {
    // Heads this instance wrote last are known: the commit's check catches any other writer.
    let heads = this.#known(wanted) ?? await this.#readHeads(wanted);
    for (;;) {
      const op = this.#group.atomic().check(...heads);
      build?.(op);
      const ts = Date.now();
      const after: number[] = [];
      wanted.forEach((append, i) => {
        let seq = heads[i]!.value ?? 0;
        for (const change of append.changes) {
          op.set(feedKeys.event(append.scope, ++seq), { ...change, seq, ts }, { expireIn: this.ttlMs });
        }
        op.set(feedKeys.head(append.scope), seq);
        after.push(seq);
      });
      const result = await op.commit();
      if (result.ok) {
        const out: Record<string, number> = {};
        wanted.forEach((append, i) => {
          const seq = after[i]!;
          out[append.scope] = seq;
          this.#remember(append.scope, {
            key: feedKeys.head(append.scope),
            value: seq,
            versionstamp: result.versionstamp,
          });
          const appended: Appended = {
            scope: append.scope,
            head: seq,
            changes: append.changes,
            before: heads[i]!.versionstamp,
            after: result.versionstamp,
          };
          for (const listener of this.#listeners) listener(appended);
        });
        return out;
      }
      // Was it a feed's head that moved (retry), or a check of the caller's (give up)?
      const now = await this.#readHeads(wanted);
      if (now.every((entry, i) => entry.versionstamp === heads[i]!.versionstamp)) return null;
      heads = now;
    }
  }

  async #readHeads(wanted: FeedAppend[]): Promise<Deno.KvEntryMaybe<number>[]> {
    const heads = await this.kv.getMany<number[]>(wanted.map((a) => feedKeys.head(a.scope)));
    wanted.forEach((append, i) => this.#remember(append.scope, heads[i]!));
    return heads;
  }

  /** The heads of these feeds as this instance last wrote or read them, if it knows them all. */
  #known(wanted: FeedAppend[]): Deno.KvEntryMaybe<number>[] | null {
    const out: Deno.KvEntryMaybe<number>[] = [];
    for (const append of wanted) {
      const head = this.#heads.get(append.scope);
      if (!head) return null;
      out.push(head);
    }
    return out;
  }

  #remember(scope: string, head: Deno.KvEntryMaybe<number>): void {
    this.#heads.delete(scope);
    this.#heads.set(scope, head);
    // The oldest feed is forgotten first; forgetting costs one read at its next append.
    if (this.#heads.size > KNOWN_HEADS) this.#heads.delete(this.#heads.keys().next().value!);
  }

  /** A feed's last number (0 for a feed with nothing in it). */
  async head(scope: string): Promise<number> {
    return (await this.kv.get<number>(feedKeys.head(scope))).value ?? 0;
  }

  /**
   * The changes of a feed after `after`, at most `limit` (in order). Changes
   * past the TTL are gone: the caller checks that the first follows `after`.
   */
  async read(scope: string, after: number, limit = FEED_READ_BATCH): Promise<FeedEvent[]> {
    const out: FeedEvent[] = [];
    const iter = this.kv.list<FeedEvent>({
      start: feedKeys.event(scope, after + 1),
      end: [...feedKeys.events(scope), Number.MAX_SAFE_INTEGER],
    }, { limit, batchSize: limit });
    for await (const entry of iter) out.push(entry.value);
    return out;
  }

  /** Calls `listener` after each append this instance commits (other instances: watch the head). */
  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
