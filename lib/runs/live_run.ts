/**
 * Driving a run on the instance that started it: the agent's events are
 * stamped (`runId`, `seq`, `ts`), handed to followers in this process at
 * once through the run's {@linkcode RunFeed}, and queued for the log writer.
 * The run ends exactly once: with the agent's own terminal event, or with a
 * cancel, an interruption (shutdown) or an internal error the moment the
 * signal aborts or the agent stops without one.
 *
 * @module
 */

import { runAgent } from "../agent/run_agent.ts";
import type { Engine } from "../agent/engine.ts";
import type {
  AgentEvent,
  ChatResult,
  FeedChange,
  Message,
  Project,
  RunEvent,
  RunRecord,
  StepName,
} from "../protocol.ts";
import { isoNow, type Stores } from "../store/mod.ts";
import { countEdit, type PreparedMessage } from "../store/messages.ts";
import { type FeedAppend, feedScopes } from "../feeds/feed_log.ts";
import { fitsOneValue, partKey, spilledForm, writeText } from "../store/chunks.ts";
import { encodeFrame, RunFeed } from "./feed.ts";
import { runKeys } from "./keys.ts";
import type { LoggedRun } from "./log_writer.ts";
import { type Ending, endings, isTerminal, messageStatusOf, settledRecord } from "./outcome.ts";
import type { LogEntry } from "./run_log.ts";
import { runEvent } from "../telemetry/run_hooks.ts";

/** Why a run's signal aborted. */
export const STOP = {
  cancel: "cancel",
  shutdown: "shutdown",
  logFailed: "log_failed",
  timeout: "timeout",
} as const;

/** How long a stopped run's agent gets to unwind before the run is tidied up anyway. */
const UNWIND_MS = 5_000;

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** What a live run needs from its registry. */
export interface LiveRunContext {
  stores: Stores;
  engine: Engine;
  /** Whether events go to the KV log. */
  durable: boolean;
  /** Events the feed holds in memory before the oldest (already in the log) are dropped. */
  maxInMemory: number;
  /** Queues the run's pending events for the log writer. */
  schedule(run: LiveRun): void;
  /** Called once the terminal event and the final record are written. */
  onFinished(run: LiveRun): void;
}

/**
 * A run this instance drives. See the module docs.
 *
 * @example
 * ```ts ignore
 * const run = new LiveRun(record, userMessage, feed, context);
 * run.drive(project);
 * await run.finished.promise;
 * ```
 */
export class LiveRun implements LoggedRun {
  record: RunRecord;
  readonly userMessage: Message;
  readonly feed: RunFeed;
  readonly controller: AbortController = new AbortController();
  /** The step the run is in. */
  step: StepName | null = null;
  readonly pending: LogEntry[] = [];
  committedSeq = 0;
  logExpiresAt: number | null = null;
  endSeq: number | null = null;
  /** Resolves once the terminal event and the final record are written. */
  readonly finished: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  /** Resolves once the agent has unwound and a stopped run is tidied up. */
  unwound: Promise<void> | null = null;
  #flushed: PromiseWithResolvers<void> | null = null;
  /** The last seq stamped (the feed may lag by the terminal event, held until it is logged). */
  #seq = 0;
  #terminal: { event: RunEvent; frame: Uint8Array } | null = null;
  #started = performance.now();
  #ctx: LiveRunContext;
  /** How many parts the result was written in, when the record could not hold it in one value. */
  #resultParts = 0;
  /** The reply, written with the run's terminal event when the run succeeded. */
  #reply: PreparedMessage | null = null;

  /** A run over its record, the user's message (already saved) and its feed. */
  constructor(record: RunRecord, userMessage: Message, feed: RunFeed, context: LiveRunContext) {
    this.record = record;
    this.userMessage = userMessage;
    this.feed = feed;
    this.#ctx = context;
  }

  get runId(): string {
    return this.record.id;
  }

  /** Resolves once every emitted event is in the log (at once without a log). */
  get flushing(): Promise<void> | null {
    return this.#flushed?.promise ?? null;
  }

  /** The record as it stands, with the last seq emitted. */
  snapshot(): RunRecord {
    return { ...this.record, lastSeq: this.#seq };
  }

  /** Stops the run (`reason` is one of {@linkcode STOP}); it ends at once. */
  stop(reason: string): void {
    if (!this.ended) this.controller.abort(reason);
  }

  /** Runs the agent and ends the run exactly once. */
  async drive(project: Project): Promise<void> {
    const signal = this.controller.signal;
    const maxRunMs = this.#ctx.stores.bounds?.maxRunMs ?? 0;
    this.#deadline = maxRunMs > 0 ? setTimeout(() => this.stop(STOP.timeout), maxRunMs) : undefined;
    // An abort ends the run at once, even while the agent is inside an await:
    // from the listener, not by racing every event against the signal.
    const onAbort = () => this.#end();
    signal.addEventListener("abort", onAbort, { once: true });
    // Started a microtask later, so the run holds the agent's promise before its first event: an abort
    // from that event on waits for the agent to unwind before tidying up.
    this.#agent = Promise.resolve().then(() =>
      runAgent({
        runId: this.record.id,
        project,
        userMessage: this.userMessage,
        stores: this.#ctx.stores,
        engine: this.#ctx.engine,
        signal,
        keepReply: (reply) => this.#keepReply(reply),
        keepResult: (result) => this.#keepResult(result),
      }, (event) => {
        if (!this.ended) this.emit(event);
      })
    );
    try {
      await this.#agent;
    } catch (error) {
      if (!signal.aborted) console.error(`Run ${this.record.id} stopped on an error:`, error);
    }
    signal.removeEventListener("abort", onAbort);
    this.#end();
  }

  #ending = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** The agent at work, settled once it has stopped. */
  #agent: Promise<void> | null = null;

  /** Ends the run once: its terminal event (unless the agent sent one), then the agent's unwinding. */
  #end(): void {
    if (this.#ending) return;
    this.#ending = true;
    clearTimeout(this.#deadline);
    const signal = this.controller.signal;
    if (!this.ended) this.emit(this.#endingFor(signal));
    // The agent stops at its next event or await (the aborted signal) without holding up the
    // terminal event. A stopped run writes no reply (that goes with a success only), but may have
    // written a long one's parts: once the agent is still, they are removed.
    if (!signal.aborted) this.controller.abort(STOP.cancel);
    const unwinding = (this.#agent ?? Promise.resolve()).then(() => {}, () => {});
    if (this.record.status !== "succeeded") this.unwound = this.#tidy(unwinding);
  }

  /** Whether the run's terminal event was emitted. */
  get ended(): boolean {
    return this.endSeq !== null;
  }

  /**
   * Stamps an event, hands it to followers, and queues it for the log. The
   * terminal event reaches followers only once it is in the log, so nobody
   * can see a run end one way and, after a crash, learn that it ended another.
   */
  emit(body: AgentEvent): void {
    // Stamp fields first so the JSON reads type, runId, seq, ts, payload (one copy of the body).
    const event = Object.assign(
      { type: body.type, runId: this.feed.runId, seq: ++this.#seq, ts: now() },
      body,
    ) as RunEvent;
    if (event.type === "progress") this.step = event.progress.step;
    const json = JSON.stringify(event);
    runEvent(event, this.#ctx.durable ? json : undefined);
    const frame = encodeFrame(event, json);
    if (isTerminal(event)) {
      this.#settle(event as Ending & RunEvent);
      this.#terminal = { event, frame };
    } else {
      this.feed.push(event, frame);
    }
    if (this.#ctx.durable) {
      this.#flushed ??= Promise.withResolvers<void>();
      this.pending.push({ seq: event.seq, json });
      this.#ctx.schedule(this);
    } else if (this.#terminal) {
      // Without a log there is nothing to wait for; the final record is still
      // written, in the writer's next commit with other runs' (see finalWrites).
      this.feed.push(this.#terminal.event, this.#terminal.frame);
      this.#flushed = Promise.withResolvers<void>();
      this.committedSeq = event.seq;
      this.#ctx.schedule(this);
    }
  }

  /**
   * The run's final writes: its record, the running index, and the reply of a run that succeeded, or the
   * user's message's mark and the conversation's edit count for one that did not (the log writer counts
   * them, with {@linkcode LiveRun.finalAppend}'s, in `FINAL_WRITES`).
   */
  finalWrites(op: Deno.AtomicOperation): void {
    const { record, userMessage } = this;
    const key = runKeys.record(record.projectId, record.id);
    op.set(key, this.#resultParts > 0 ? spilledForm(record, "result", this.#resultParts) : record);
    op.delete(runKeys.running(record.owner, record.id));
    const reply = this.#succeededReply();
    if (reply) op.set(reply.key, reply.stored);
    const status = messageStatusOf(record.status);
    if (status) {
      op.set(this.#ctx.stores.messages.key(record.projectId, userMessage.id), { ...userMessage, status });
      countEdit(op, record.projectId);
    }
  }

  /** What the project's feed hears in the commit of the final writes: the reply, if any, and `run.ended`. */
  finalAppend(): FeedAppend {
    const { record } = this;
    const reply = this.#succeededReply();
    const ended: FeedChange = { type: "run.ended", runId: record.id, status: record.status };
    return { scope: feedScopes.project(record.projectId), changes: reply ? [reply.change, ended] : [ended] };
  }

  /** What the final writes and append weigh at most: two bytes a character (see the log writer). */
  finalBytes(): number {
    const record = this.#resultParts > 0 ? { ...this.record, result: null } : this.record;
    const reply = this.#succeededReply();
    const replyChars = reply ? JSON.stringify(reply.stored).length + JSON.stringify(reply.change).length : 0;
    return 2 * (JSON.stringify(record).length + JSON.stringify(this.userMessage).length + replyChars) + 512;
  }

  #succeededReply(): PreparedMessage | null {
    return this.record.status === "succeeded" ? this.#reply : null;
  }

  /** Readies the reply for the final commit (a long one is written in parts now, like the result). */
  async #keepReply(reply: Message): Promise<void> {
    this.#reply = await this.#ctx.stores.messages.prepare(this.record.projectId, reply);
  }

  /** Called by the log writer as events reach the log. */
  written(seq: number, done: boolean): void {
    const feed = this.feed;
    // What is in the log can leave memory: followers far behind read it back from there.
    this.#keepWindow(seq);
    // And what every follower has read: events then live one commit window, not the run's life.
    if (this.#ctx.durable) feed.logged(seq);
    if (this.pending.length === 0) {
      this.#flushed?.resolve();
      this.#flushed = null;
    }
    if (done) this.#finish();
  }

  /** Called by the log writer when the log keeps refusing the run's events. */
  failed(_error: unknown): void {
    if (!this.ended) return this.stop(STOP.logFailed);
    // Its terminal event (or final record) could not be written: a log_write_failed error takes its seq.
    const event = { type: "error", runId: this.runId, seq: this.endSeq!, ts: now() } as RunEvent;
    Object.assign(event, endings.logFailed(this.step));
    this.#resultParts = 0;
    this.#settle(event as Ending & RunEvent);
    this.#terminal = { event, frame: encodeFrame(event) };
    if (this.#ctx.durable) {
      this.#flushed ??= Promise.withResolvers<void>();
      this.pending.push({ seq: event.seq, json: JSON.stringify(event) });
    }
    this.#ctx.schedule(this);
    this.unwound ??= this.#tidy(Promise.resolve());
  }

  #endingFor(signal: AbortSignal): Ending {
    if (signal.reason === STOP.shutdown) return endings.interrupted(this.step);
    if (signal.reason === STOP.timeout) return endings.timeout(this.step, this.#ctx.stores.bounds.maxRunMs);
    if (signal.reason === STOP.logFailed) return endings.logFailed(this.step);
    if (signal.aborted) return endings.cancelled(this.step);
    return endings.internal(this.step);
  }

  /**
   * A result too large for the record's one KV value (a long answer, many
   * actions) is written in parts before the run ends, so the final commit
   * only points at them and can never fail on the result's size.
   */
  async #keepResult(result: ChatResult): Promise<void> {
    if (fitsOneValue({ ...this.record, result })) return;
    const key = runKeys.record(this.record.projectId, this.record.id);
    try {
      this.#resultParts = await writeText(this.#ctx.stores.kv, key, JSON.stringify(result));
    } catch (error) {
      console.error(`Run ${this.record.id}: writing its result failed:`, error);
      this.stop(STOP.logFailed);
    }
  }

  #settle(event: Ending & RunEvent): void {
    this.endSeq = event.seq;
    this.record = {
      ...settledRecord(this.record, event, event.seq),
      endedAt: isoNow(),
      durationMs: Number((performance.now() - this.#started).toFixed(3)),
    };
  }

  /** Past its window, the feed drops logged events up to `logged` (keeping the latest half window). */
  #keepWindow(logged: number): void {
    const max = this.#ctx.maxInMemory;
    if (this.feed.events.length > max) this.feed.trim(Math.min(logged, this.feed.lastSeq - max / 2));
  }

  #finish(): void {
    const terminal = this.#terminal;
    if (terminal && !this.feed.done) this.feed.push(terminal.event, terminal.frame);
    this.#terminal = null;
    // Everything is in the log: a retained run keeps only its terminal event in memory once nobody reads it,
    // and meanwhile no more than its window (the terminal event came after the last trim).
    if (this.#ctx.durable) {
      this.#keepWindow(this.feed.lastSeq);
      this.feed.lean();
    }
    // A finished run may be kept a while for late followers: it lets go of what only its run needed (a
    // stopped run's reply is still to be tidied away, see #tidy).
    if (this.record.status === "succeeded") this.#reply = null;
    this.#deadline = undefined;
    this.#agent = null;
    this.finished.resolve();
    this.#ctx.onFinished(this);
  }

  async #tidy(unwinding: Promise<void>): Promise<void> {
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([unwinding, new Promise((resolve) => timer = setTimeout(resolve, UNWIND_MS))]);
      clearTimeout(timer);
      await this.flushing;
      // The reply is written only with a success; the parts of a long one may already be, and are removed.
      const reply = this.#reply;
      if (!reply || reply.parts === 0) return;
      const op = this.#ctx.stores.kv.atomic();
      for (let n = 0; n < reply.parts; n++) op.delete(partKey(reply.key, n));
      await op.commit();
    } catch (error) {
      console.error(`Run ${this.record.id}: tidying up failed:`, error);
    }
  }
}
