/**
 * Follows a feed from the browser with EventSource (one stream per page):
 * reconnects by itself from the last position it saw (`?lastEventId=`, the
 * query form of `Last-Event-ID`), reports the connection's state, and tells
 * when event streams are blocked so the page can fall back.
 *
 * @module
 */

/** The states a connection goes through. */
export type ConnectionState = "idle" | "connecting" | "live" | "offline" | "reconnecting" | "fallback";

/** What a follower reports. */
export interface FollowerHandlers {
  /** A message's data; `id` is the position after it. */
  onMessage(data: string, id: string): void;
  onState(state: ConnectionState): void;
  /** The server is reachable but event streams are not: fall back. */
  onBlocked(): void;
  /** What the feed is about is gone (the probe got a 404): stop. */
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
 * One feed's follower. `stop()` closes it for good.
 *
 * @example
 * ```ts ignore
 * const follower = new FeedFollower(feedUrl, projectUrl, { onMessage, onState, onBlocked, onEnded });
 * follower.start(position);
 * ```
 */
export class FeedFollower {
  #eventsUrl: string;
  #subjectUrl: string;
  #handlers: FollowerHandlers;
  #source: EventSource | null = null;
  #position = "";
  #attempt = 0;
  #strikes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #probing = false;
  #onOnline = () => this.#probeNow();

  /** A follower of `eventsUrl`; `subjectUrl` (what the feed is about) is probed before reconnecting. */
  constructor(eventsUrl: string, subjectUrl: string, handlers: FollowerHandlers) {
    this.#eventsUrl = eventsUrl;
    this.#subjectUrl = subjectUrl;
    this.#handlers = handlers;
  }

  /** The position after the last message handed over. */
  get position(): string {
    return this.#position;
  }

  /** Opens the stream after `position` ("" starts now). */
  start(position = ""): void {
    this.#position = position;
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
    const url = this.#url();
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
      if (message.lastEventId) this.#position = message.lastEventId;
      this.#handlers.onMessage(message.data, this.#position);
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
      verdict = this.#strikes === 0 ? await this.#probeSubject() : await this.#probeStream();
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

  #url(): string {
    return this.#position === ""
      ? this.#eventsUrl
      : `${this.#eventsUrl}?lastEventId=${encodeURIComponent(this.#position)}`;
  }

  /** Whether the server is back: it answers for what the feed is about. */
  async #probeSubject(): Promise<Verdict> {
    try {
      const res = await fetch(this.#subjectUrl, {
        headers: { accept: "application/json" },
        cache: "no-store",
      });
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
      const res = await fetch(this.#url(), {
        headers: { accept: "text/event-stream" },
        cache: "no-store",
        signal: abort.signal,
      });
      const type = res.headers.get("content-type") ?? "";
      if (res.status === 200 && type.startsWith("text/event-stream")) return "open";
      // Busy or shutting down: later.
      if (res.status === 429 || res.status >= 500) return "retry";
      // Gone (404, 410).
      if (res.status === 404 || res.status === 410) return "ended";
      // Anything else (a proxy answering in its own way): streams are blocked here.
      return "blocked";
    } catch {
      return "retry";
    } finally {
      abort.abort();
    }
  }
}
