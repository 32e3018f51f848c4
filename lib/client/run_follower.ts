/**
 * Follows a run from the browser with EventSource: reconnects by itself from
 * the last seq it saw (`?lastEventId=`), reports the connection's state, and
 * tells when event streams are blocked so the page can fall back.
 *
 * @module
 */

import type { RunEvent } from "../protocol.ts";
import { isTerminal } from "../protocol.ts";

/** The states a connection goes through. */
export type ConnectionState = "idle" | "connecting" | "live" | "offline" | "reconnecting" | "fallback";

/** What a follower reports. */
export interface FollowerHandlers {
  onEvent(event: RunEvent): void;
  onState(state: ConnectionState): void;
  /** The server is reachable but event streams are not: fall back. */
  onBlocked(): void;
}

const BACKOFF_MS = [300, 600, 1200, 2500, 5000];

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

  /** A follower of `eventsUrl`; `runUrl` is probed before reconnecting. */
  constructor(eventsUrl: string, runUrl: string, handlers: FollowerHandlers) {
    this.#eventsUrl = eventsUrl;
    this.#runUrl = runUrl;
    this.#handlers = handlers;
  }

  /** Opens the stream after `lastSeq`. */
  start(lastSeq = 0): void {
    this.#lastSeq = lastSeq;
    this.#handlers.onState("connecting");
    this.#open();
  }

  /** Closes the stream and stops reconnecting. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
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
      let event: RunEvent;
      try {
        event = JSON.parse(message.data) as RunEvent;
      } catch {
        return;
      }
      if (event.seq <= this.#lastSeq) return;
      this.#lastSeq = event.seq;
      this.#handlers.onEvent(event);
      if (isTerminal(event)) {
        this.stop();
        this.#handlers.onState("idle");
      }
    };
    source.onerror = () => {
      source.close();
      if (this.#stopped) return;
      if (!opened) this.#strikes++;
      this.#handlers.onState("offline");
      this.#retry();
    };
  }

  #retry(): void {
    const delay = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)]!;
    this.#timer = setTimeout(() => this.#probe(), delay);
  }

  /** Reconnects only once the server answers, so "reconnecting" means it. */
  async #probe(): Promise<void> {
    if (this.#stopped) return;
    try {
      const res = await fetch(this.#runUrl, { headers: { accept: "application/json" } });
      if (this.#stopped) return;
      if (!res.ok) throw new Error(`status ${res.status}`);
      await res.body?.cancel();
      if (this.#strikes >= 3) {
        this.stop();
        this.#handlers.onState("fallback");
        this.#handlers.onBlocked();
        return;
      }
      this.#handlers.onState("reconnecting");
      this.#open();
    } catch {
      this.#handlers.onState("offline");
      this.#retry();
    }
  }
}
