/**
 * One viewer of a project feed: the feed's changes in order and, on the same
 * stream, the events of the project's runs, from the position it resumes at
 * (see {@linkcode FeedPosition}). A run's events follow its `run.started`;
 * its `run.ended` waits until its terminal event went out, so a viewer never
 * learns that a run ended before seeing how. It holds positions, never a
 * buffer: changes come from the topic's memory (or KV), run events from the
 * run's shared feed (or its log).
 *
 * @example
 * ```ts ignore
 * const viewer = new FeedSubscription(topic, { seq: 0, runs: new Map() }, { heartbeatMs: 15_000, openRun });
 * await viewer.init();
 * const step = await viewer.next(); // frames, a keep-alive, or the end
 * ```
 *
 * @module
 */

import type { FeedEvent, RunEvent } from "../protocol.ts";
import type { FeedGapError } from "../runs/feed.ts";
import type { HeldFeed } from "../runs/remote.ts";
import { type FeedPosition, formatPosition } from "./position.ts";
import type { FeedTopic, TopicViewer } from "./topic.ts";

/** What {@linkcode FeedSubscription.next} hands out. */
export type FeedStep =
  | { kind: "frames"; frames: Uint8Array[] }
  | { kind: "keep-alive" }
  /** Nothing more: the server shuts down, the viewer left, or the project was deleted. */
  | { kind: "end"; reason: "shutdown" | "aborted" | "deleted" };

/** Options of a {@linkcode FeedSubscription}. */
export interface SubscriptionOptions {
  /** Opens a run's feed to follow it; null when it cannot be followed (expired, unknown). */
  openRun?: (runId: string) => Promise<HeldFeed | null>;
  /** When it aborts, the viewer ends with `shutdown`. */
  shutdown?: AbortSignal;
  /** When it aborts, the viewer ends with `aborted`. */
  signal?: AbortSignal;
}

/** At most this many frames per step, so one step's memory is bounded. */
const MAX_FRAMES = 256;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
/** Each change's `data:` line and blank line, encoded once for every viewer. */
const dataOf = new WeakMap<object, Uint8Array>();

interface Followed {
  held: HeldFeed;
  position: number;
}

/** A viewer of a feed. See the module docs. */
export class FeedSubscription implements TopicViewer {
  #topic: FeedTopic;
  #seq: number;
  #start: Map<string, number>;
  #runs = new Map<string, Followed>();
  #resets: number;
  #options: SubscriptionOptions;
  #lastSent = performance.now();
  #due = false;
  #wake: (() => void) | null = null;
  #closed = false;
  #deleted = false;
  /** The next change is a `run.ended` waiting for its run's terminal event to go out first. */
  #held = false;
  #onAbort = () => this.#wake?.();

  /** A viewer of `topic` after `position`. Call {@linkcode FeedSubscription.init} before `next`. */
  constructor(topic: FeedTopic, position: FeedPosition, options: SubscriptionOptions = {}) {
    this.#topic = topic;
    this.#seq = position.seq;
    this.#start = position.runs;
    // A position ahead of the feed (its changes expired and numbering started again) resets at once.
    this.#resets = position.seq > topic.known ? topic.resets - 1 : topic.resets;
    this.#options = options;
    options.shutdown?.addEventListener("abort", this.#onAbort);
    options.signal?.addEventListener("abort", this.#onAbort);
    topic.viewers.add(this);
  }

  /** Opens the runs the position names. */
  async init(): Promise<void> {
    for (const [runId, at] of this.#start) await this.#follow(runId, at);
  }

  /** The position after everything handed out, as the frames' `id:` says it. */
  get position(): string {
    return formatPosition(this.#seq, this.#positions());
  }

  /** How many runs this viewer follows now. */
  get following(): number {
    return this.#runs.size;
  }

  /** The next frames, a keep-alive that is due, or the end. */
  async next(): Promise<FeedStep> {
    const frames: Uint8Array[] = [];
    while (!this.#closed) {
      if (this.#options.shutdown?.aborted) return { kind: "end", reason: "shutdown" };
      if (this.#options.signal?.aborted) return { kind: "end", reason: "aborted" };
      if (this.#resets !== this.#topic.resets) this.#reset(frames);
      else {
        await this.#takeChanges(frames);
        await this.#takeRunEvents(frames);
      }
      if (frames.length > 0) {
        this.#lastSent = performance.now();
        return { kind: "frames", frames };
      }
      if (this.#deleted) return { kind: "end", reason: "deleted" };
      if (this.#due) {
        this.#due = false;
        this.#lastSent = performance.now();
        return { kind: "keep-alive" };
      }
      if (!this.#ready()) await this.#wait();
    }
    return { kind: "end", reason: "aborted" };
  }

  /** Called by the topic when changes arrive. */
  wake(): void {
    this.#wake?.();
  }

  /** Called by the topic's heartbeat. */
  tick(now: number): void {
    if (this.#wake && now - this.#lastSent >= this.#topic.heartbeatMs) {
      this.#due = true;
      this.#wake();
    }
  }

  /** Detaches from the topic and the runs; false when already closed. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#topic.viewers.delete(this);
    for (const runId of [...this.#runs.keys()]) this.#unfollow(runId);
    this.#options.shutdown?.removeEventListener("abort", this.#onAbort);
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#wake?.();
    return true;
  }

  *#positions(): Generator<[string, number]> {
    for (const [runId, followed] of this.#runs) yield [runId, followed.position];
  }

  /** Whether something can be handed out without waiting. */
  #ready(): boolean {
    if (this.#closed || this.#due || this.#resets !== this.#topic.resets) return true;
    // A held change waits for its run's events, which wake this viewer when they come.
    if (this.#topic.known > this.#seq && !this.#held) return true;
    for (const { held, position } of this.#runs.values()) {
      if (position < held.feed.lastSeq || held.feed.behind(position)) return true;
    }
    return false;
  }

  async #wait(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#wake = resolve;
    const waits = [];
    for (const { held } of this.#runs.values()) {
      if (held.feed.done) continue;
      const wait = held.feed.wait();
      waits.push(wait);
      wait.promise.then(resolve);
    }
    if (this.#options.signal?.aborted || this.#options.shutdown?.aborted) resolve();
    await promise;
    this.#wake = null;
    for (const wait of waits) wait.cancel();
  }

  async #takeChanges(frames: Uint8Array[]): Promise<void> {
    this.#held = false;
    while (frames.length < MAX_FRAMES && this.#seq < this.#topic.known && !this.#deleted) {
      let changes = this.#topic.after(this.#seq);
      if (changes === null) {
        changes = await this.#topic.read(this.#seq);
        // Gone from KV too (past the TTL): the viewer must read the state again.
        if (changes[0]?.seq !== this.#seq + 1) return this.#reset(frames);
      }
      if (changes.length === 0) return;
      for (const change of changes) {
        if (frames.length >= MAX_FRAMES || this.#closed) return;
        if (change.type === "run.ended") {
          const followed = this.#runs.get(change.runId);
          // Its terminal event goes first.
          if (followed && (!followed.held.feed.done || followed.position < followed.held.feed.lastSeq)) {
            this.#held = true;
            return;
          }
          if (followed) this.#unfollow(change.runId);
        } else if (change.type === "run.started") {
          await this.#follow(change.run.runId, 0);
        }
        this.#seq = change.seq;
        frames.push(encoder.encode(`id: ${this.position}\n`), dataFrame(change));
        if (change.type === "project.deleted") {
          this.#deleted = true;
          return;
        }
      }
    }
  }

  async #takeRunEvents(frames: Uint8Array[]): Promise<void> {
    for (const [runId, followed] of this.#runs) {
      const feed = followed.held.feed;
      let events: RunEvent[];
      let encoded: Uint8Array[] | null = null;
      if (feed.behind(followed.position)) {
        try {
          events = await feed.catchUp(followed.position);
        } catch (error) {
          // The run's log lost events: the viewer reads the state again rather than show a hole.
          if ((error as FeedGapError).name === "FeedGapError") return this.#reset(frames);
          throw error;
        }
      } else if (followed.position < feed.lastSeq) {
        events = feed.after(followed.position);
        encoded = feed.framesAfter(followed.position);
      } else {
        if (feed.ended) this.#unfollow(runId);
        continue;
      }
      for (let i = 0; i < events.length && frames.length < MAX_FRAMES; i++) {
        const event = events[i]!;
        followed.position = event.seq;
        if (feed.ended && event.seq === feed.lastSeq) this.#unfollow(runId);
        frames.push(encoder.encode(`id: ${this.position}\n`), runData(event, encoded?.[i]));
      }
    }
  }

  async #follow(runId: string, after: number): Promise<void> {
    if (this.#runs.has(runId) || !this.#options.openRun) return;
    const held = await this.#options.openRun(runId).catch(() => null);
    if (!held) return;
    if (this.#closed || this.#runs.has(runId)) return held.release();
    const followed = { held, position: after };
    // Attached as a reader, so the run keeps in memory what this viewer has not read yet.
    held.feed.attach(followed);
    this.#runs.set(runId, followed);
  }

  #unfollow(runId: string): void {
    const followed = this.#runs.get(runId);
    if (!followed) return;
    followed.held.feed.detach(followed);
    followed.held.release();
    this.#runs.delete(runId);
  }

  /** Tells the viewer to read the state again, and carries on from the feed's head. */
  #reset(frames: Uint8Array[]): void {
    for (const runId of [...this.#runs.keys()]) this.#unfollow(runId);
    this.#resets = this.#topic.resets;
    this.#seq = this.#topic.known;
    const reset: FeedEvent = {
      type: "feed.reset",
      message: "The feed cannot be replayed from there. Read the project again.",
      seq: this.#seq,
      ts: Date.now(),
    };
    frames.push(encoder.encode(`id: ${this.position}\n`), dataFrame(reset));
  }
}

/** A change's `data:` line, shared by every viewer. */
function dataFrame(change: FeedEvent): Uint8Array {
  let data = dataOf.get(change);
  if (!data) {
    data = encoder.encode(`data: ${JSON.stringify(change)}\n\n`);
    dataOf.set(change, data);
  }
  return data;
}

/** A run event's `data:` line: cut from its run-stream frame when there is one (no copy). */
function runData(event: RunEvent, frame: Uint8Array | undefined): Uint8Array {
  if (frame) return frame.subarray(frame.indexOf(NEWLINE) + 1);
  return encoder.encode(`data: ${JSON.stringify(event)}\n\n`);
}
