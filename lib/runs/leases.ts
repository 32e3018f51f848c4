/**
 * Leases, orphans and cancels across instances. Each instance holds a lease
 * in KV and renews it; a run whose owner's lease lapsed is an orphan, and
 * whoever finds it ends it as `interrupted` (in one atomic commit that also
 * logs the `interrupted` error, so it happens once). A cancel for a run
 * driven elsewhere goes to its owner's inbox, which the owner watches.
 *
 * @module
 */

import type { Message, RunEvent, RunRecord } from "../protocol.ts";
import { countEdit, type MessageStore } from "../store/messages.ts";
import { isoNow } from "../store/kv.ts";
import { CancelTimeout } from "./errors.ts";
import { runKeys, runningRunId } from "./keys.ts";
import { endings, settledRecord } from "./outcome.ts";
import type { LogHead, RunLog } from "./run_log.ts";

/** How long cancel requests wait in KV for an owner that never reads them. */
const CANCEL_EXPIRE_MS = 60_000;

/** Options of {@linkcode Leases}. */
export interface LeasesOptions {
  kv: Deno.Kv;
  instanceId: string;
  leaseMs: number;
  log: RunLog;
  messages: MessageStore;
  /** Aborts when this instance shuts down: its own lease then counts as lapsed. */
  shutdown: AbortSignal;
  /** Called after a run was marked interrupted here. */
  onInterrupted?: (record: RunRecord) => void;
}

/**
 * This instance's lease, and the orphans and cancels of all instances.
 *
 * @example
 * ```ts
 * import { Leases } from "./leases.ts";
 * import { RunLog } from "./run_log.ts";
 * import { MessageStore } from "../store/messages.ts";
 * const kv = await Deno.openKv(":memory:");
 * const leases = new Leases({
 *   kv, instanceId: "i1", leaseMs: 1_000, log: new RunLog(kv, 60_000),
 *   messages: new MessageStore(kv), shutdown: new AbortController().signal,
 * });
 * await leases.renew();
 * console.log(await leases.ownerAlive("i1"), await leases.ownerAlive("gone")); // true false
 * await leases.release();
 * kv.close();
 * ```
 */
export class Leases {
  #kv: Deno.Kv;
  #id: string;
  #leaseMs: number;
  #log: RunLog;
  #messages: MessageStore;
  #shutdown: AbortSignal;
  #onInterrupted: ((record: RunRecord) => void) | undefined;
  #inbox: ReadableStreamDefaultReader<Deno.KvEntryMaybe<unknown>[]> | null = null;

  /** Leases for the instance `options.instanceId`. */
  constructor(options: LeasesOptions) {
    this.#kv = options.kv;
    this.#id = options.instanceId;
    this.#leaseMs = options.leaseMs;
    this.#log = options.log;
    this.#messages = options.messages;
    this.#shutdown = options.shutdown;
    this.#onInterrupted = options.onInterrupted;
  }

  /** Takes or renews this instance's lease. */
  async renew(): Promise<void> {
    await this.#kv.set(runKeys.lease(this.#id), { expiresAt: Date.now() + this.#leaseMs }, {
      expireIn: this.#leaseMs * 3,
    });
  }

  /** Whether an instance's lease holds (this one's, until it shuts down). */
  async ownerAlive(owner: string): Promise<boolean> {
    if (owner === this.#id) return !this.#shutdown.aborted;
    const lease = (await this.#kv.get<{ expiresAt: number }>(runKeys.lease(owner))).value;
    return lease !== null && lease.expiresAt > Date.now();
  }

  /**
   * Ends every run whose owner's lease lapsed as interrupted; returns how many. It reads only other
   * instances' entries of the running index (this one's runs are under its own id): a sweep of an
   * instance that runs alone reads nothing, however many runs it drives.
   */
  async sweep(): Promise<number> {
    let count = 0;
    const owners = new Map<string, boolean>();
    const index = runKeys.allRunning();
    // Before this instance's entries, then after them (a boolean sorts after every string id).
    const others = [
      this.#kv.list<RunningEntry>({ prefix: index, end: runKeys.running(this.#id, "") }),
      this.#kv.list<RunningEntry>({ prefix: index, start: [...index, this.#id, true] }),
    ];
    for await (const entry of concat(others)) {
      const runId = runningRunId(entry.key);
      const { projectId, owner } = entry.value;
      if (owner === this.#id) continue;
      let alive = owners.get(owner);
      if (alive === undefined) owners.set(owner, alive = await this.ownerAlive(owner));
      if (alive) continue;
      const record = (await this.#kv.get<RunRecord>(runKeys.record(projectId, runId))).value;
      if (!record) {
        await this.#kv.delete(entry.key);
        continue;
      }
      if (await this.interrupt(record)) count++;
    }
    return count;
  }

  /** Ends an orphaned run with an `interrupted` error; null if it already ended. */
  async interrupt(record: RunRecord): Promise<RunRecord | null> {
    const recordKey = runKeys.record(record.projectId, record.id);
    const headKey = this.#log.headKey(record.id);
    const messageKey = this.#messages.key(record.projectId, record.messageId);
    const [recordEntry, headEntry, messageEntry] = await this.#kv.getMany<[RunRecord, LogHead, Message]>([
      recordKey,
      headKey,
      messageKey,
    ]);
    const current = recordEntry.value;
    if (!current || current.status !== "running") return null;
    // The dead owner may have saved its reply without reaching its result.
    const stray = await this.#messages.repliesOf(current.projectId, current.messageId, current.id);
    const op = this.#kv.atomic().check(recordEntry, headEntry);
    for (const key of stray) op.delete(key);
    const head = headEntry.value;
    const lastSeq = head?.lastSeq ?? 0;
    const ending = endings.interrupted(null);
    const endedAt = isoNow();
    const final: RunRecord = {
      ...settledRecord(current, ending, head?.done ? lastSeq : lastSeq + 1),
      endedAt,
      durationMs: Date.parse(endedAt) - Date.parse(current.createdAt),
    };
    if (!head?.done) {
      const event = { ...ending, runId: record.id, seq: lastSeq + 1, ts: Date.now() } as RunEvent;
      const expiresAt = head?.expiresAt ?? Date.now() + this.#log.ttlMs;
      this.#log.append(op, record.id, [{ seq: event.seq, json: JSON.stringify(event) }], true, expiresAt);
    }
    // The index entry as this Lantern keys it, and as one before it did (deleting what is not there is a no-op).
    op.set(recordKey, final).delete(runKeys.running(record.owner, record.id)).delete(
      runKeys.runningBefore(record.id),
    );
    if (messageEntry.value) op.set(messageKey, { ...messageEntry.value, status: "interrupted" });
    countEdit(op, record.projectId);
    const { ok } = await op.commit();
    if (!ok) return null;
    this.#onInterrupted?.(final);
    return final;
  }

  /** Asks the owner of `record` to stop it, through the owner's inbox. */
  async requestCancel(record: RunRecord): Promise<void> {
    const at = Date.now();
    await this.#kv.atomic()
      .set(runKeys.cancel(record.owner, record.id), { projectId: record.projectId, at }, {
        expireIn: CANCEL_EXPIRE_MS,
      })
      .set(runKeys.inbox(record.owner), { runId: record.id, at }, { expireIn: CANCEL_EXPIRE_MS })
      .commit();
  }

  /**
   * Stops a running run that another instance drives and resolves with its
   * final record: ended here as interrupted when its owner is gone, else
   * asked of its owner, then `waitForEnd` follows it until the owner ends it.
   * Throws {@linkcode CancelTimeout} when the owner does not answer in time.
   */
  async cancel(record: RunRecord, waitForEnd: () => Promise<RunRecord | null>): Promise<RunRecord> {
    if (!(await this.ownerAlive(record.owner))) {
      // Null when someone else ended it first: read what they wrote.
      return (await this.interrupt(record)) ??
        (await this.#kv.get<RunRecord>(runKeys.record(record.projectId, record.id))).value ?? record;
    }
    await this.requestCancel(record);
    const final = (await waitForEnd()) ?? record;
    if (final.status === "running") throw new CancelTimeout(record.id);
    return final;
  }

  /** Watches this instance's inbox and calls `onCancel` for each run asked to stop. */
  listen(onCancel: (runId: string) => void): void {
    const reader = this.#kv.watch([runKeys.inbox(this.#id)]).getReader();
    this.#inbox = reader;
    (async () => {
      try {
        while (true) {
          const { done } = await reader.read();
          if (done) break;
          for await (const entry of this.#kv.list({ prefix: runKeys.cancels(this.#id) })) {
            await this.#kv.delete(entry.key);
            onCancel(entry.key[2] as string);
          }
        }
      } catch (error) {
        if (!this.#shutdown.aborted) console.error("The cancel inbox stopped:", error);
      }
    })();
  }

  /** Stops watching the inbox and gives up the lease. */
  async release(): Promise<void> {
    await this.#inbox?.cancel().catch(() => {});
    this.#inbox = null;
    await this.#kv.delete(runKeys.lease(this.#id)).catch(() => {});
  }
}

/** What an entry of the running index holds. */
interface RunningEntry {
  projectId: string;
  owner: string;
}

async function* concat<T>(lists: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const list of lists) yield* list;
}
