/**
 * What the person does on a project page, through the API: send a message
 * (a run, or one plain request where the browser has no EventSource), Stop
 * this page's run, forget a memory, open a run's steps, read the
 * conversation again. A failure becomes a notice at the composer. Plain
 * functions over one {@linkcode ChatState}: the hook (`use_chat.ts`) makes
 * the state and wires these to the feed and the view.
 *
 * @module
 */

import type { ReadonlySignal, Signal } from "@preact/signals";
import type { RefObject } from "preact";
import type { RunInfo } from "../exchanges.ts";
import type { ChatResult, Memory, Message, RunStarted } from "../protocol.ts";
import { foldEvents, type Timeline } from "../timeline.ts";
import { urls } from "../urls.ts";
import { api, ApiError, pause, readRunEvents } from "./api.ts";
import { LOCAL_ID } from "./conversation.ts";
import type { ConnectionState } from "./feed_follower.ts";
import { scrollToEnd } from "./use_follow_end.ts";

/** A notice at the composer, and what makes it go away. */
export interface Notice {
  text: string;
  /** `network`: clears once the server answers again. */
  cause: "network" | "other";
}

/** A project page's conversation as signals: what the view reads and the actions change. */
export interface ChatState {
  messages: Signal<Message[]>;
  memories: Signal<Memory[]>;
  /** Memories the last run saved (marked as new). */
  fresh: Signal<string[]>;
  /** Runs whose steps are open. */
  expanded: Signal<string[]>;
  /** Long messages the person unfolded (by exchange key). */
  unfolded: Signal<string[]>;
  timelines: Signal<Record<string, Timeline>>;
  infos: ReadonlySignal<Record<string, RunInfo>>;
  connection: Signal<ConnectionState>;
  /** Another instance answered than the one that rendered the page. */
  restarted: ReadonlySignal<boolean>;
  sending: Signal<boolean>;
  stopping: Signal<boolean>;
  notice: Signal<Notice | null>;
  /** Now on the server's clock, ticking while a run goes. */
  now: Signal<number>;
  /** The live region's line. */
  announcement: Signal<string>;
  draft: Signal<string>;
  /** The island runs (until then the page is the server's HTML). */
  hydrated: Signal<boolean>;
  /** The project was deleted (in another tab, or by someone else). */
  deleted: Signal<boolean>;
  /**
   * Runs this page stands for: those it started, and those going when it was
   * rendered (as a page without JavaScript does). Its composer waits for the
   * latest of them, and Stop stops it; runs started elsewhere do not block it.
   */
  own: Signal<string[]>;
  /** The latest of {@linkcode own} still going. */
  ownRunning: ReadonlySignal<string | null>;
  /** The composer waits (sending, this page's run goes, or the project is gone). */
  busy: ReadonlySignal<boolean>;
  /** The view follows the end of the page (false once the person scrolled up). */
  atBottom: Signal<boolean>;
  composer: RefObject<HTMLTextAreaElement | null>;
  form: RefObject<HTMLFormElement | null>;
}

/** Where the actions act: the project, and which messages the island holds. */
export interface ChatPlace {
  projectId: string;
  /** The first message the island holds (a long conversation hydrates only its latest ones). */
  firstMessageId: string | null;
  olderCount: number;
  /** Shows a run this page started (the project feed follows it from there). */
  started(run: RunStarted): void;
}

/** What {@linkcode chatActions} gives. */
export interface ChatActions {
  send(text: string): Promise<void>;
  stop(event?: Event): Promise<void>;
  forget(memory: Memory): Promise<void>;
  /** Opens or closes the steps of a run; a run not loaded yet is read from its log. */
  toggleSteps(event: Event, runId: string): Promise<void>;
  /** Reads the conversation and the memories whole (a few tries); false when the server did not answer. */
  refresh(): Promise<boolean>;
  /** The server answered: a notice caused by the network is over. */
  reachable(): void;
  /** Counts a run among this page's own (Stop stops it). */
  adopt(runId: string): void;
}

/** `network` when nothing answered (the notice clears once something does). */
const causeOf = (error: unknown): Notice["cause"] =>
  error instanceof ApiError && error.status === 0 ? "network" : "other";

/**
 * A list with `item` added, or taken out when it is there.
 *
 * @example
 * ```ts
 * import { toggled } from "./chat_actions.ts";
 * console.log(toggled(["a"], "b"), toggled(["a", "b"], "a")); // [ "a", "b" ] [ "b" ]
 * ```
 */
export const toggled = (list: string[], item: string): string[] =>
  list.includes(item) ? list.filter((x) => x !== item) : [...list, item];

/**
 * The person's actions on state `s`, for the project at `place`.
 *
 * @example
 * ```ts ignore
 * const { send } = chatActions(state, { projectId, firstMessageId: null, olderCount: 0, started });
 * await send("Remember that the launch is on May 3");
 * ```
 */
export function chatActions(s: ChatState, place: ChatPlace): ChatActions {
  const id = place.projectId;

  /** Shows what failed at the composer, with the error's sentence. */
  function fail(what: string, error: unknown, cause: Notice["cause"] = "other", after = "") {
    s.notice.value = { text: `${what}: ${(error as Error).message}${after}`, cause };
  }

  function reachable() {
    if (s.notice.value?.cause === "network") s.notice.value = null;
  }

  function adopt(runId: string) {
    if (!s.own.value.includes(runId)) s.own.value = [...s.own.value, runId];
  }

  async function refresh(): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [m, mem] = await Promise.all([
          api<Message[]>(urls.messages(id)),
          api<Memory[]>(urls.memories(id)),
        ]);
        const first = place.firstMessageId;
        s.messages.value = first === null || place.olderCount === 0 ? m : m.filter((x) => x.id >= first);
        s.memories.value = mem;
        reachable();
        return true;
      } catch {
        await pause(500 * (attempt + 1));
      }
    }
    return false;
  }

  async function send(text: string) {
    const message = text.trim();
    if (!message || s.busy.value) return;
    s.sending.value = true;
    s.notice.value = null;
    s.atBottom.value = true;
    scrollToEnd("instant");
    const optimistic: Message = {
      id: `${LOCAL_ID}${Date.now()}`,
      role: "user",
      content: message,
      runId: null,
      createdAt: new Date().toISOString(),
    };
    // Shown at once; taken back (and the draft restored) if it was not sent.
    s.messages.value = [...s.messages.value, optimistic];
    if (s.draft.value.trim() === message) s.draft.value = "";
    const body = JSON.stringify({ message });
    try {
      if (typeof EventSource === "undefined") {
        s.connection.value = "fallback";
        const result = await api<ChatResult>(urls.chat(id), { method: "POST", body });
        s.connection.value = "idle";
        s.fresh.value = result.memories.added.map((m) => m.id);
        await refresh();
        return;
      }
      const started = await api<RunStarted>(urls.runs(id), { method: "POST", body });
      reachable();
      // The feed may have brought the message already; otherwise this copy waits for it.
      s.messages.value = s.messages.value.map((m) =>
        m === optimistic ? { ...optimistic, runId: started.runId } : m
      );
      adopt(started.runId);
      place.started(started);
    } catch (error) {
      s.connection.value = "idle";
      s.messages.value = s.messages.value.filter((m) => m !== optimistic);
      if (s.draft.value === "") s.draft.value = message;
      fail("Your message was not sent", error, causeOf(error));
    } finally {
      s.sending.value = false;
    }
  }

  async function stop(event?: Event) {
    event?.preventDefault();
    const runId = s.ownRunning.value;
    if (!runId || s.stopping.value) return;
    s.stopping.value = true;
    try {
      await api(urls.runCancel(id, runId), { method: "POST" });
      reachable();
    } catch (error) {
      s.stopping.value = false;
      fail("Could not stop the run", error, causeOf(error), " Try Stop again.");
    }
  }

  async function forget(memory: Memory) {
    try {
      await api(urls.memory(id, memory.id), { method: "DELETE" });
      reachable();
      s.memories.value = s.memories.value.filter((m) => m.id !== memory.id);
      s.announcement.value = `Forgot "${memory.text}".`;
    } catch (error) {
      fail("Could not forget it", error);
    }
  }

  async function toggleSteps(event: Event, runId: string) {
    event.preventDefault();
    const open = s.expanded.value.includes(runId);
    s.expanded.value = toggled(s.expanded.value, runId);
    if (open || s.timelines.value[runId]) return;
    try {
      const events = await readRunEvents(urls.runEvents(id, runId));
      s.timelines.value = { ...s.timelines.value, [runId]: foldEvents(events, runId) };
    } catch (error) {
      s.expanded.value = s.expanded.value.filter((x) => x !== runId);
      fail("Could not show the steps", error);
    }
  }

  return { send, stop, forget, toggleSteps, refresh, reachable, adopt };
}
