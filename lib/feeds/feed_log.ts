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

/**
 * Appends added to a caller's atomic operation by {@linkcode FeedLog.stage}: say what became of it.
 *
 * @example
 * ```ts
 * import { FeedLog, feedScopes } from "./feed_log.ts";
 * const kv = await Deno.openKv(":memory:");
 * const log = new FeedLog(kv);
 * const scope = feedScopes.project("p1");
 * await log.commit([{ scope, changes: [{ type: "run.ended", runId: "r0", status: "succeeded" }] }]);
 * const op = kv.atomic().set(["runs", "p1", "r1"], { status: "succeeded" });
 * const { staged } = log.stage(op, [{ scope, changes: [{ type: "run.ended", runId: "r1", status: "succeeded" }] }]);
 * const result = await op.commit();
 * if (result.ok) staged.committed(result.versionstamp);
 * console.log(await log.head(scope)); // 2
 * kv.close();
 * ```
 */
export interface StagedAppends {
  /** The operation committed with this versionstamp: the heads move on, listeners hear of it. */
  committed(versionstamp: string): void;
  /** The operation's checks failed: read the heads again before the next try. */
  refresh(): Promise<void>;
  /** The operation failed otherwise (or was not committed). */
  abandon(): void;
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
      const op = this.#group.atomic();
      build?.(op);
      const after = this.#write(op, wanted, heads);
      const result = await op.commit();
      if (result.ok) {
        this.#committed(wanted, heads, after, result.versionstamp);
        const out: Record<string, number> = {};
        wanted.forEach((append, i) => out[append.scope] = after[i]!);
        return out;
      }
      // Was it a feed's head that moved (retry), or a check of the caller's (give up)?
      const now = await this.#readHeads(wanted);
      if (now.every((entry, i) => entry.versionstamp === heads[i]!.versionstamp)) return null;
      heads = now;
    }
  }

  /**
   * Adds `appends` to `op`, an atomic operation the caller commits itself
   * (the run log's writer, with a run's last events), checked against each
   * feed's head as this instance last knew it. Appends to feeds whose head
   * it does not know, or that another append of its own is writing to, are
   * left out and returned in `later` (append them with
   * {@linkcode FeedLog.commit} once `op` committed). Tell the result what
   * became of `op`: `committed` moves the heads on and tells the listeners;
   * after a failed check, `refresh` reads the heads again for the next try;
   * `abandon` otherwise. Until then, this instance's other appends to those
   * feeds wait.
   */
  stage(op: Deno.AtomicOperation, appends: FeedAppend[]): { staged: StagedAppends; later: FeedAppend[] } {
    const wanted: FeedAppend[] = [];
    const heads: Deno.KvEntryMaybe<number>[] = [];
    const turns: (() => void)[] = [];
    const later: FeedAppend[] = [];
    for (const append of appends) {
      if (append.changes.length === 0) continue;
      const head = this.#heads.get(append.scope);
      // The feed's turn, held until `op` is settled: this instance's other appends to it wait.
      const turn = head && this.#turns.take(append.scope);
      if (turn) {
        wanted.push(append);
        heads.push(head);
        turns.push(turn);
      } else later.push(append);
    }
    const after = this.#write(op, wanted, heads);
    const release = () => turns.splice(0).forEach((give) => give());
    return {
      staged: {
        committed: (versionstamp) => {
          release();
          this.#committed(wanted, heads, after, versionstamp);
        },
        refresh: async () => {
          try {
            if (wanted.length > 0) await this.#readHeads(wanted);
          } finally {
            release();
          }
        },
        abandon: release,
      },
      later,
    };
  }

  /** Adds the appends and their checks to `op`; returns each feed's new head. */
  #write(op: Deno.AtomicOperation, wanted: FeedAppend[], heads: Deno.KvEntryMaybe<number>[]): number[] {
    if (heads.length > 0) op.check(...heads);
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
    return after;
  }

  /** The appends are in: remember the new heads and tell the listeners. */
  #committed(
    wanted: FeedAppend[],
    heads: Deno.KvEntryMaybe<number>[],
    after: number[],
    versionstamp: string,
  ): void {
    wanted.forEach((append, i) => {
      const head = after[i]!;
      this.#remember(append.scope, { key: feedKeys.head(append.scope), value: head, versionstamp });
      const appended: Appended = {
        scope: append.scope,
        head,
        changes: append.changes,
        before: heads[i]!.versionstamp,
        after: versionstamp,
      };
      for (const listener of this.#listeners) {
        // A listener's fault is its own: the append is in, and the log writer's loop goes on.
        try {
          listener(appended);
        } catch (error) {
          console.error(`A listener of the feed ${append.scope} failed:`, error);
        }
      }
    });
  }

  async #readHeads(wanted: FeedAppend[]): Promise<Deno.KvEntryMaybe<number>[]> {
    const heads: Deno.KvEntryMaybe<number>[] = [];
    // KV reads at most 10 keys at once.
    for (let i = 0; i < wanted.length; i += 10) {
      heads.push(
        ...await this.kv.getMany<number[]>(wanted.slice(i, i + 10).map((a) => feedKeys.head(a.scope))),
      );
    }
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
