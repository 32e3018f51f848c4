/**
 * Group commit: atomic operations committed at about the same moment share
 * one KV commit. A commit to a KV file costs 0.2–0.5 ms of CPU however
 * little it writes, and each more mutation about 0.02 ms, so many runs
 * starting and ending at once pay for one commit, not one each.
 *
 * Each operation keeps its own meaning: it commits whole or not at all, its
 * checks are its own, and its caller gets its own result. Operations go out
 * together only when no two of them touch the same key (a later check must
 * see an earlier write, as it would one commit after the other); the shared
 * commit fails when any one check fails or any one value is refused, and then
 * each operation in it is committed on its own, to give each its own answer.
 * One shared commit is in flight at a time: what comes in meanwhile waits for
 * it and goes out together in the next one.
 *
 * @example
 * ```ts
 * import { groupCommits } from "./group_commit.ts";
 * const kv = await Deno.openKv(":memory:");
 * const group = groupCommits(kv);
 * const [a, b] = await Promise.all([
 *   group.atomic().set(["a"], 1).commit(),
 *   group.atomic().check({ key: ["b"], versionstamp: null }).set(["b"], 2).commit(),
 * ]);
 * console.log(a.ok && b.ok && a.versionstamp === b.versionstamp); // true
 * kv.close();
 * ```
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** The most operations, mutations and checks one shared commit carries (KV allows 1,000 mutations, 100 checks). */
const LIMITS = { operations: 64, mutations: 900, checks: 90 } as const;

type Outcome = Deno.KvCommitResult | Deno.KvCommitError;

interface Enqueue {
  value: unknown;
  options?: Parameters<Deno.AtomicOperation["enqueue"]>[1];
}

/** An atomic operation recorded, to be committed alone or with others. */
class GroupedOperation implements Deno.AtomicOperation {
  readonly checks: Deno.AtomicCheck[] = [];
  readonly mutations: Deno.KvMutation[] = [];
  readonly enqueues: Enqueue[] = [];
  /** The keys it checks or writes, as strings. */
  readonly keys = new Set<string>();
  readonly #group: CommitGroup;

  constructor(group: CommitGroup) {
    this.#group = group;
  }

  check(...checks: Deno.AtomicCheck[]): this {
    for (const check of checks) {
      this.keys.add(keyId(check.key));
      this.checks.push(check);
    }
    return this;
  }

  mutate(...mutations: Deno.KvMutation[]): this {
    for (const mutation of mutations) {
      this.keys.add(keyId(mutation.key));
      this.mutations.push(mutation);
    }
    return this;
  }

  sum(key: Deno.KvKey, n: bigint): this {
    return this.mutate({ type: "sum", key, value: new Deno.KvU64(n) });
  }

  min(key: Deno.KvKey, n: bigint): this {
    return this.mutate({ type: "min", key, value: new Deno.KvU64(n) });
  }

  max(key: Deno.KvKey, n: bigint): this {
    return this.mutate({ type: "max", key, value: new Deno.KvU64(n) });
  }

  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    const mutation: Deno.KvMutation = { type: "set", key, value };
    if (options?.expireIn !== undefined) mutation.expireIn = options.expireIn;
    return this.mutate(mutation);
  }

  delete(key: Deno.KvKey): this {
    return this.mutate({ type: "delete", key });
  }

  enqueue(value: unknown, options?: Enqueue["options"]): this {
    this.enqueues.push({ value, options });
    return this;
  }

  commit(): Promise<Outcome> {
    return this.#group.submit(this);
  }

  /** Adds what it records to a real operation. */
  addTo(op: Deno.AtomicOperation): void {
    if (this.checks.length > 0) op.check(...this.checks);
    if (this.mutations.length > 0) op.mutate(...this.mutations);
    for (const { value, options } of this.enqueues) op.enqueue(value, options);
  }
}

/** A key as a string that tells its parts' types apart. */
function keyId(key: Deno.KvKey): string {
  let id = "";
  for (const part of key) {
    id += part instanceof Uint8Array
      ? `b${part.join(",")}\u0000`
      : `${(typeof part)[0]}${String(part)}\u0000`;
  }
  return id;
}

interface Waiting {
  /** Its place in the order operations were sent (from 1). */
  seq: number;
  operation: GroupedOperation;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

/**
 * Commits atomic operations in groups. See the module docs; get one with
 * {@linkcode groupCommits}.
 */
export class CommitGroup {
  readonly kv: Deno.Kv;
  #queue: Waiting[] = [];
  #busy = false;
  /** Operations sent since the group began, and the seq of the oldest one not yet settled. */
  #submitted = 0;
  #oldest = 1;
  #catchUps: { upTo: number; resolve: () => void }[] = [];

  /** A group over an open KV. */
  constructor(kv: Deno.Kv) {
    this.kv = kv;
  }

  /** A new atomic operation whose `commit()` goes out with others'. */
  atomic(): Deno.AtomicOperation {
    return new GroupedOperation(this);
  }

  /**
   * Resolves once every operation submitted before the call has settled. A
   * writer with larger, less urgent commits (the run log's) waits for it, so
   * the operations already waiting here (runs starting) do not queue behind
   * its commit in KV.
   *
   * @example
   * ```ts
   * import { groupCommits } from "./group_commit.ts";
   * const kv = await Deno.openKv(":memory:");
   * const group = groupCommits(kv);
   * const start = group.atomic().set(["start"], 1).commit();
   * await group.caughtUp();
   * console.log((await kv.get(["start"])).value); // 1: the start went first
   * await start;
   * kv.close();
   * ```
   */
  caughtUp(): Promise<void> {
    if (this.#oldest > this.#submitted) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#catchUps.push({ upTo: this.#submitted, resolve });
    return promise;
  }

  /** Queues an operation; resolves with its own outcome. */
  submit(operation: GroupedOperation): Promise<Outcome> {
    const seq = ++this.#submitted;
    const { promise, resolve, reject } = Promise.withResolvers<Outcome>();
    this.#queue.push({ seq, operation, resolve, reject });
    // The first comes in: go out after what else this turn of the event loop brings
    // (setImmediate: some 25 µs here, where a setTimeout of 0 waits about 2 ms).
    if (!this.#busy) {
      this.#busy = true;
      setImmediate(() => this.#drain());
    }
    return promise;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      // Settles each operation of the batch, whatever happens: it never throws.
      await this.#commitBatch(batch);
      // The queue keeps the order operations were sent in (later ones may have gone in this batch, ahead
      // of one left for later: a count of settled operations would not say which).
      this.#oldest = this.#queue[0]?.seq ?? this.#submitted + 1;
      if (this.#catchUps.length > 0) {
        const oldest = this.#oldest;
        this.#catchUps = this.#catchUps.filter((c) => c.upTo >= oldest || (c.resolve(), false));
      }
    }
    this.#busy = false;
  }

  /** The next batch: from the front, the operations that share no key and fit the limits. */
  #take(): Waiting[] {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const keys = new Set<string>();
    let mutations = 0;
    let checks = 0;
    for (const waiting of this.#queue) {
      const { operation } = waiting;
      const fits = batch.length < LIMITS.operations &&
        mutations + operation.mutations.length + operation.enqueues.length <= LIMITS.mutations &&
        checks + operation.checks.length <= LIMITS.checks &&
        // Once one is left for later, so is everything after it that shares a key with it.
        !overlaps(operation.keys, keys);
      if (fits || batch.length === 0) {
        batch.push(waiting);
        mutations += operation.mutations.length + operation.enqueues.length;
        checks += operation.checks.length;
      } else {
        rest.push(waiting);
      }
      for (const key of operation.keys) keys.add(key);
    }
    this.#queue = rest;
    return batch;
  }

  async #commitBatch(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const op = this.kv.atomic();
        // A value KV cannot store throws here, as it would from `set`: each alone below then answers.
        for (const { operation } of batch) operation.addTo(op);
        const outcome = await op.commit();
        if (outcome.ok) {
          for (const waiting of batch) waiting.resolve(outcome);
          return;
        }
      } catch {
        // A refused value or a limit: each alone below gives each its own answer.
      }
    }
    await Promise.all(batch.map(async ({ operation, resolve, reject }) => {
      try {
        const op = this.kv.atomic();
        operation.addTo(op);
        resolve(await op.commit());
      } catch (error) {
        reject(error);
      }
    }));
  }
}

function overlaps(a: Set<string>, b: Set<string>): boolean {
  for (const key of a) if (b.has(key)) return true;
  return false;
}

const groups = new WeakMap<Deno.Kv, CommitGroup>();

/**
 * The one {@linkcode CommitGroup} of a KV: every store that writes through
 * it shares its commits.
 *
 * @example
 * ```ts
 * import { groupCommits } from "./group_commit.ts";
 * const kv = await Deno.openKv(":memory:");
 * console.log(groupCommits(kv) === groupCommits(kv)); // true
 * kv.close();
 * ```
 */
export function groupCommits(kv: Deno.Kv): CommitGroup {
  let group = groups.get(kv);
  if (!group) groups.set(kv, group = new CommitGroup(kv));
  return group;
}
