/**
 * A project page's conversation as state and actions: the messages and
 * memories as the project's feed keeps them, the runs this page stands for,
 * the draft, the notice, and what the person does (send, Stop, forget, open a
 * run's steps, unfold a long message). A Preact hook; the island
 * (`islands/ChatPanel.tsx`) renders what it returns and calls its actions.
 *
 * @module
 */

import { type ReadonlySignal, type Signal, useComputed, useSignal, useSignalEffect } from "@preact/signals";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ExchangeActions } from "../../components/Exchange.tsx";
import type { RunInfo } from "../exchanges.ts";
import type { ChatResult, Memory, Message, Project, RunEvent, RunStarted } from "../protocol.ts";
import type { TerminalEvent } from "../runs/outcome.ts";
import { foldEvents, type Timeline } from "../timeline.ts";
import { announcementFor } from "../timeline_words.ts";
import { urls } from "../urls.ts";
import { api, ApiError, pause, readRunEvents } from "./api.ts";
import { LOCAL_ID, localCopyIndex, withMessage } from "./conversation.ts";
import type { ConnectionState } from "./feed_follower.ts";
import { scrollToEnd, useFollowEnd } from "./use_follow_end.ts";
import { type ProjectChange, useProjectFeed } from "./use_project_feed.ts";

/** What the page was rendered with: the conversation starts from it. */
export interface ChatStart {
  project: Project;
  messages: Message[];
  memories: Memory[];
  /** The steps of the runs shown in full: the latest, and any opened with `?steps=`. */
  timelines: Record<string, Timeline>;
  /** What the records say of every run in the conversation, for folded rails. */
  runs: Record<string, RunInfo>;
  /**
   * The project feed's position when the page was rendered, with the runs
   * still going at their timelines' last event: the feed goes on from there.
   */
  position: string;
  /** Runs whose steps are open. */
  expanded: string[];
  /** The instance that rendered the page: another one answering later means a restart. */
  instance: string;
  /** The server's clock when it rendered the page (elapsed times start from it). */
  renderedAt: number;
  /** A message for the no-JavaScript form's result, if any. */
  notice?: string;
  /**
   * How many earlier exchanges the server renders as static HTML before the
   * island's own (a long conversation hydrates only its latest ones).
   */
  olderCount: number;
  /** The first message the island holds: a reload of the conversation keeps this one and later ones. */
  firstMessageId: string | null;
}

/** A notice at the composer, and what makes it go away. */
export interface Notice {
  text: string;
  /** `network`: clears once the server answers again. */
  cause: "network" | "other";
}

/** The conversation's state (signals the view reads) and the person's actions. */
export interface Chat {
  messages: ReadonlySignal<Message[]>;
  memories: ReadonlySignal<Memory[]>;
  /** Memories the last run saved (marked as new). */
  fresh: ReadonlySignal<string[]>;
  /** Runs whose steps are open. */
  expanded: ReadonlySignal<string[]>;
  /** Long messages the person unfolded (by exchange key). */
  unfolded: ReadonlySignal<string[]>;
  timelines: ReadonlySignal<Record<string, Timeline>>;
  infos: ReadonlySignal<Record<string, RunInfo>>;
  connection: ReadonlySignal<ConnectionState>;
  restarted: ReadonlySignal<boolean>;
  sending: ReadonlySignal<boolean>;
  stopping: ReadonlySignal<boolean>;
  notice: ReadonlySignal<Notice | null>;
  /** Now on the server's clock, ticking while a run goes. */
  now: ReadonlySignal<number>;
  /** The live region's line. */
  announcement: ReadonlySignal<string>;
  draft: Signal<string>;
  /** The island runs (until then the page is the server's HTML). */
  hydrated: ReadonlySignal<boolean>;
  /** The project was deleted (in another tab, or by someone else). */
  deleted: ReadonlySignal<boolean>;
  /** The run this page started that is still going (the composer waits for it; Stop stops it). */
  ownRunning: ReadonlySignal<string | null>;
  /** The composer waits (sending, this page's run goes, or the project is gone). */
  busy: ReadonlySignal<boolean>;
  /** The view follows the end of the page (false once the person scrolled up). */
  atBottom: Signal<boolean>;
  composer: RefObject<HTMLTextAreaElement | null>;
  form: RefObject<HTMLFormElement | null>;
  send(text: string): Promise<void>;
  stop(event?: Event): Promise<void>;
  forget(memory: Memory): Promise<void>;
  /** What an exchange can do: one object for the whole list, so unchanged exchanges keep equal props. */
  actions: ExchangeActions;
}

/** `network` when nothing answered (the notice clears once something does). */
const causeOf = (error: unknown): Notice["cause"] =>
  error instanceof ApiError && error.status === 0 ? "network" : "other";

/** Adds `item` to a list, or takes it out when it is there. */
const toggled = (list: string[], item: string) =>
  list.includes(item) ? list.filter((x) => x !== item) : [...list, item];

/**
 * The conversation of one project page. See the module docs.
 *
 * @example
 * ```ts ignore
 * const chat = useChat(props);
 * chat.send("Remember that the launch is on May 3");
 * ```
 */
export function useChat(start: ChatStart): Chat {
  const { project } = start;
  const id = project.id;
  const messages = useSignal(start.messages);
  const memories = useSignal(start.memories);
  const fresh = useSignal<string[]>([]);
  const expanded = useSignal(start.expanded);
  const unfolded = useSignal<string[]>([]);
  const sending = useSignal(false);
  const stopping = useSignal(false);
  const notice = useSignal<Notice | null>(start.notice ? { text: start.notice, cause: "other" } : null);
  const now = useSignal(start.renderedAt);
  const announcement = useSignal("");
  const draft = useSignal("");
  const hydrated = useSignal(false);
  const deleted = useSignal(false);
  const composer = useRef<HTMLTextAreaElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const announced = useRef(new Set<string>());

  /**
   * Runs this page stands for: those it started, and those going when it was
   * rendered (as a page without JavaScript does). Its composer waits for the
   * latest of them, and Stop stops it; runs started elsewhere later do not
   * block it.
   */
  const own = useSignal<string[]>(
    Object.entries(start.timelines).filter(([, t]) => t.outcome === "running").map(([runId]) => runId),
  );

  const feed = useProjectFeed({
    projectId: id,
    instance: start.instance,
    position: start.position,
    timelines: start.timelines,
    infos: start.runs,
    onChange: announce,
    onEnd,
    onProjectChange,
    onReachable: reachable,
  });
  const { timelines, connection, serverNow } = feed;

  const running = useComputed(() => Object.values(timelines.value).some((t) => t.outcome === "running"));
  const ownRunning = useComputed(() =>
    own.value.findLast((runId) => timelines.value[runId]?.outcome === "running") ?? null
  );
  const atBottom = useFollowEnd(running, hydrated);
  const busy = useComputed(() => sending.value || ownRunning.value !== null || deleted.value);

  // Tick elapsed times only while a run is going.
  useSignalEffect(() => {
    if (!running.value) return;
    now.value = serverNow();
    const timer = setInterval(() => now.value = serverNow(), 100);
    return () => clearInterval(timer);
  });

  useEffect(() => {
    hydrated.value = true;
    addEventListener("online", reachable);
    return () => removeEventListener("online", reachable);
  }, []);

  /** Shows what failed at the composer, with the error's sentence. */
  function fail(what: string, error: unknown, cause: Notice["cause"] = "other", after = "") {
    notice.value = { text: `${what}: ${(error as Error).message}${after}`, cause };
  }

  /** The server answered: a notice caused by the network is over. */
  function reachable() {
    if (notice.value?.cause === "network") notice.value = null;
  }

  /** Reads the conversation and the memories whole (a few tries). */
  async function refresh(): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [m, mem] = await Promise.all([
          api<Message[]>(urls.messages(id)),
          api<Memory[]>(urls.memories(id)),
        ]);
        const first = start.firstMessageId;
        messages.value = first === null || start.olderCount === 0 ? m : m.filter((x) => x.id >= first);
        memories.value = mem;
        reachable();
        return true;
      } catch {
        await pause(500 * (attempt + 1));
      }
    }
    return false;
  }

  /** Puts focus back in the composer if the person was there (or nowhere). */
  function restoreFocus() {
    const active = document.activeElement;
    if (!active || active === document.body || form.current?.contains(active)) composer.current?.focus();
  }

  function announce(event: RunEvent) {
    const line = announcementFor(event);
    const key = event.type === "progress" ? `${event.runId}:${event.progress.step}` : `${event.runId}:end`;
    if (line === null || announced.current.has(key)) return;
    announced.current.add(key);
    announcement.value = line;
  }

  /** A run ended: its memories are marked (the feed brings the answer and the memories themselves). */
  function onEnd(event: TerminalEvent) {
    if (event.type === "result") fresh.value = event.result.memories.added.map((m) => m.id);
    if (!own.value.includes(event.runId)) return;
    stopping.value = false;
    restoreFocus();
  }

  /** Counts `runId` among this page's own runs (Stop stops it). */
  function adopt(runId: string) {
    if (!own.value.includes(runId)) own.value = [...own.value, runId];
  }

  /** What any tab or device did in this project, as its feed tells it. */
  function onProjectChange(change: ProjectChange) {
    // A long answer comes cut on the feed: read the conversation whole.
    if (change.type === "message.added") {
      change.message.truncated ? refresh() : messages.value = withMessage(messages.value, change.message);
    } else if (change.type === "run.started") {
      // This page's message, started before its POST answered: Stop it from now on.
      if (sending.value && localCopyIndex(messages.value, change.run.runId, change.run.message) >= 0) {
        adopt(change.run.runId);
      }
    } else if (change.type === "memory.added") {
      if (!memories.value.some((m) => m.id === change.memory.id)) {
        memories.value = [...memories.value, change.memory];
      }
    } else if (change.type === "memory.removed") {
      memories.value = memories.value.filter((m) => m.id !== change.memoryId);
    } else if (change.type === "project.renamed") {
      document.title = `${change.project.name} · Lantern`;
      const heading = document.querySelector(".project-title");
      if (heading) heading.textContent = change.project.name;
    } else if (change.type === "project.deleted") {
      deleted.value = true;
      announcement.value = "This project was deleted.";
    }
  }

  async function send(text: string) {
    const message = text.trim();
    if (!message || busy.value) return;
    sending.value = true;
    notice.value = null;
    atBottom.value = true;
    scrollToEnd("instant");
    const optimistic: Message = {
      id: `${LOCAL_ID}${Date.now()}`,
      role: "user",
      content: message,
      runId: null,
      createdAt: new Date().toISOString(),
    };
    // Shown at once; taken back (and the draft restored) if it was not sent.
    messages.value = [...messages.value, optimistic];
    if (draft.value.trim() === message) draft.value = "";
    const body = JSON.stringify({ message });
    try {
      if (typeof EventSource === "undefined") {
        connection.value = "fallback";
        const result = await api<ChatResult>(urls.chat(id), { method: "POST", body });
        connection.value = "idle";
        fresh.value = result.memories.added.map((m) => m.id);
        await refresh();
        return;
      }
      const started = await api<RunStarted>(urls.runs(id), { method: "POST", body });
      reachable();
      // The feed may have brought the message already; otherwise this copy waits for it.
      messages.value = messages.value.map((m) =>
        m === optimistic ? { ...optimistic, runId: started.runId } : m
      );
      adopt(started.runId);
      feed.started(started);
    } catch (error) {
      connection.value = "idle";
      messages.value = messages.value.filter((m) => m !== optimistic);
      if (draft.value === "") draft.value = message;
      fail("Your message was not sent", error, causeOf(error));
    } finally {
      sending.value = false;
    }
  }

  async function stop(event?: Event) {
    event?.preventDefault();
    const runId = ownRunning.value;
    if (!runId || stopping.value) return;
    stopping.value = true;
    try {
      await api(urls.runCancel(id, runId), { method: "POST" });
      reachable();
    } catch (error) {
      stopping.value = false;
      fail("Could not stop the run", error, causeOf(error), " Try Stop again.");
    }
  }

  async function forget(memory: Memory) {
    try {
      await api(urls.memory(id, memory.id), { method: "DELETE" });
      reachable();
      memories.value = memories.value.filter((m) => m.id !== memory.id);
      announcement.value = `Forgot "${memory.text}".`;
    } catch (error) {
      fail("Could not forget it", error);
    }
  }

  /** Opens or closes the steps of a run; a run not loaded yet is read from its log. */
  async function toggleSteps(event: Event, runId: string) {
    event.preventDefault();
    const open = expanded.value.includes(runId);
    expanded.value = toggled(expanded.value, runId);
    if (open || timelines.value[runId]) return;
    try {
      const events = await readRunEvents(urls.runEvents(id, runId));
      timelines.value = { ...timelines.value, [runId]: foldEvents(events, runId) };
    } catch (error) {
      expanded.value = expanded.value.filter((x) => x !== runId);
      fail("Could not show the steps", error);
    }
  }

  // Made once, calling the latest actions: unchanged exchanges keep equal props.
  const latest = useRef({ send, toggleSteps });
  latest.current = { send, toggleSteps };
  const actions = useRef<ExchangeActions>({
    unfold: (key) => unfolded.value = toggled(unfolded.value, key),
    retry: (event, message) => {
      event.preventDefault();
      latest.current.send(message);
    },
    toggleSteps: (event, runId) => latest.current.toggleSteps(event, runId),
  }).current;

  return {
    messages,
    memories,
    fresh,
    expanded,
    unfolded,
    timelines,
    infos: feed.infos,
    connection,
    restarted: feed.restarted,
    sending,
    stopping,
    notice,
    now,
    announcement,
    draft,
    hydrated,
    deleted,
    ownRunning,
    busy,
    atBottom,
    composer,
    form,
    send,
    stop,
    forget,
    actions,
  };
}
