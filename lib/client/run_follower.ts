/**
 * Follows a run from the browser with EventSource: reconnects by itself from
 * the last seq it saw (`?lastEventId=`, the query form of `Last-Event-ID`),
 * reports the connection's state, and tells when event streams are blocked so
 * the page can fall back.
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { isTerminal } from "../runs/outcome.ts";
import { parseRunEvent } from "../wire_schema.ts";

/** The states a connection goes through. */
export type ConnectionState = "idle" | "connecting" | "live" | "offline" | "reconnecting" | "fallback";

/** What a follower reports. */
export interface FollowerHandlers {
  onEvent(event: RunEvent): void;
  onState(state: ConnectionState): void;
  /** The server is reachable but event streams are not: fall back. */
  onBlocked(): void;
  /**
   * The stream has nothing more to give though no terminal event came (the
   * run is gone, or its log ends before what we saw): read how it ended.
   */
  onEnded(): void;
  /** The instance that answered a probe (`X-Instance-Id`): a new one means the server restarted. */
  onServer?(instanceId: string): void;
}

/** What a probe found: reconnect, wait and retry, give up on streams, or read the end. */
type Verdict = "open" | "retry" | "blocked" | "ended";

/** Waits between reconnection attempts; the last one repeats. */
const BACKOFF_MS = [250, 500, 1000, 2000, 3000];
/**
 * Streams that fail to open in a row, though a probe of the same URL gets an
 * event stream, before we call them blocked (a proxy that buffers, say).
 */
const MAX_STRIKES = 5;

/**
 * One run's follower. `stop()` closes it for good.
 *
 * @example
 * ```ts ignore
 * const follower = new RunFollower(eventsUrl, runUrl, { onEvent, onState, onBlocked });
 * follower.start(0);
 * ```
 */
export class RunFollower {
  #eventsUrl: string;
  #runUrl: string;
  #handlers: FollowerHandlers;
  #source: EventSource | null = null;
  #lastSeq = 0;
  #attempt = 0;
  #strikes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #probing = false;
  #onOnline = () => this.#probeNow();

  /** A follower of `eventsUrl`; `runUrl` is probed before reconnecting. */
  constructor(eventsUrl: string, runUrl: string, handlers: FollowerHandlers) {
    this.#eventsUrl = eventsUrl;
    this.#runUrl = runUrl;
    this.#handlers = handlers;
  }

  /** The seq of the last event handed over. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Opens the stream after `lastSeq`. */
  start(lastSeq = 0): void {
    this.#lastSeq = lastSeq;
    this.#handlers.onState("connecting");
    // The browser knows when the network comes back before our backoff does.
    globalThis.addEventListener?.("online", this.#onOnline);
    this.#open();
  }

  /** Closes the stream and stops reconnecting. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    globalThis.removeEventListener?.("online", this.#onOnline);
    this.#source?.close();
    this.#source = null;
  }

  #open(): void {
    if (this.#stopped) return;
    const url = `${this.#eventsUrl}?lastEventId=${this.#lastSeq}`;
    const source = new EventSource(url);
    this.#source = source;
    let opened = false;
    source.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.#strikes = 0;
      this.#handlers.onState("live");
    };
    source.onmessage = (message) => {
      // Checked, not cast: a payload that is not an event is dropped.
      const event = parseRunEvent(message.data);
      if (!event) return;
      // A replay after a reconnect may overlap what we have: skip it. A
      // terminal event is never a repeat (we stop at the first), even when a
      // crash left the log shorter than what we saw and its seq is old.
      if (event.seq <= this.#lastSeq && !isTerminal(event)) return;
      this.#lastSeq = Math.max(this.#lastSeq, event.seq);
      this.#handlers.onEvent(event);
      if (isTerminal(event)) {
        this.stop();
        this.#handlers.onState("idle");
      }
    };
    source.onerror = () => {
      // We reconnect ourselves, after a probe, so the state we show is true.
      source.close();
      if (this.#stopped || this.#source !== source) return;
      this.#source = null;
      if (!opened) this.#strikes++;
      this.#handlers.onState("offline");
      this.#retry();
    };
  }

  #retry(): void {
    clearTimeout(this.#timer);
    const delay = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)]!;
    this.#timer = setTimeout(() => this.#probe(), delay);
  }

  #probeNow(): void {
    if (this.#stopped || this.#source || this.#probing) return;
    clearTimeout(this.#timer);
    this.#probe();
  }

  /**
   * Reconnects only once the server answers, so "reconnecting" means it.
   * After a stream that failed to open, the probe asks for the stream
   * itself to learn why: an event stream means it was a blip; a server error
   * or a full server means try again later; anything else (a proxy that
   * answers in its own way) means streams are blocked here.
   */
  async #probe(): Promise<void> {
    if (this.#stopped || this.#probing) return;
    this.#probing = true;
    let verdict: Verdict;
    try {
      verdict = this.#strikes === 0 ? await this.#probeRun() : await this.#probeStream();
    } finally {
      this.#probing = false;
    }
    if (this.#stopped) return;
    if (verdict === "ended") {
      this.stop();
      this.#handlers.onState("idle");
      this.#handlers.onEnded();
    } else if (verdict === "blocked" || this.#strikes >= MAX_STRIKES) {
      this.stop();
      this.#handlers.onState("fallback");
      this.#handlers.onBlocked();
    } else if (verdict === "open") {
      this.#handlers.onState("reconnecting");
      this.#open();
    } else {
      this.#handlers.onState("offline");
      this.#retry();
    }
  }

  /** Whether the server is back: it answers for the run. */
  async #probeRun(): Promise<Verdict> {
    try {
      const res = await fetch(this.#runUrl, { headers: { accept: "application/json" }, cache: "no-store" });
      await res.body?.cancel();
      const instance = res.headers.get("x-instance-id");
      if (instance) this.#handlers.onServer?.(instance);
      if (res.status === 404) return "ended";
      return res.ok ? "open" : "retry";
    } catch {
      return "retry";
    }
  }

  /** Why the stream did not open: asks for it and reads only its head. */
  async #probeStream(): Promise<Verdict> {
    const abort = new AbortController();
    try {
      const res = await fetch(`${this.#eventsUrl}?lastEventId=${this.#lastSeq}`, {
        headers: { accept: "text/event-stream" },
        cache: "no-store",
        signal: abort.signal,
      });
      const type = res.headers.get("content-type") ?? "";
      if (res.status === 200 && type.startsWith("text/event-stream")) return "open";
      // Busy, shutting down, or a run whose owner is being replaced: later.
      if (res.status === 429 || res.status >= 500) return "retry";
      // Ended with nothing after what we saw (204), or gone (404, 410).
      if (res.status === 204 || res.status === 404 || res.status === 410) return "ended";
      // Anything else (a proxy answering in its own way): streams are blocked here.
      return "blocked";
    } catch {
      return "retry";
    } finally {
      abort.abort();
    }
  }
}
