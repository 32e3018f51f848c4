/**
 * A project page's conversation: its state as signals (the messages and
 * memories as the project's feed keeps them, the runs this page stands for,
 * the draft, the notice) and what the feed's changes do to it, with the
 * person's actions (`chat_actions.ts`). A Preact hook; the island
 * (`islands/ChatPanel.tsx`) renders what it returns and calls its actions.
 *
 * @module
 */

import { useComputed, useSignal, useSignalEffect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { ExchangeActions } from "../../components/Exchange.tsx";
import type { RunInfo } from "../exchanges.ts";
import type { Memory, Message, Project, RunEvent } from "../protocol.ts";
import type { TerminalEvent } from "../runs/outcome.ts";
import type { Timeline } from "../timeline.ts";
import { announcementFor } from "../timeline_words.ts";
import { type ChatActions, chatActions, type ChatState, type Notice, toggled } from "./chat_actions.ts";
import { localCopyIndex, withMessage } from "./conversation.ts";
import { useFollowEnd } from "./use_follow_end.ts";
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

/** The conversation's state and what the view calls. */
export interface Chat extends ChatState, Pick<ChatActions, "send" | "stop" | "forget"> {
  /** What an exchange can do: one object for the whole list, so unchanged exchanges keep equal props. */
  actions: ExchangeActions;
}

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
  const feed = useProjectFeed({
    projectId: start.project.id,
    instance: start.instance,
    position: start.position,
    timelines: start.timelines,
    infos: start.runs,
    onChange: announce,
    onEnd,
    onProjectChange,
    onReachable: () => act.reachable(),
  });
  const { timelines, serverNow } = feed;
  const own = useSignal<string[]>(
    Object.entries(start.timelines).filter(([, t]) => t.outcome === "running").map(([runId]) => runId),
  );
  const sending = useSignal(false);
  const deleted = useSignal(false);
  const hydrated = useSignal(false);
  const running = useComputed(() => Object.values(timelines.value).some((t) => t.outcome === "running"));
  const ownRunning = useComputed(() =>
    own.value.findLast((runId) => timelines.value[runId]?.outcome === "running") ?? null
  );
  const s: ChatState = {
    messages: useSignal(start.messages),
    memories: useSignal(start.memories),
    fresh: useSignal<string[]>([]),
    expanded: useSignal(start.expanded),
    unfolded: useSignal<string[]>([]),
    timelines,
    infos: feed.infos,
    connection: feed.connection,
    restarted: feed.restarted,
    sending,
    stopping: useSignal(false),
    notice: useSignal<Notice | null>(start.notice ? { text: start.notice, cause: "other" } : null),
    now: useSignal(start.renderedAt),
    announcement: useSignal(""),
    draft: useSignal(""),
    hydrated,
    deleted,
    own,
    ownRunning,
    busy: useComputed(() => sending.value || ownRunning.value !== null || deleted.value),
    atBottom: useFollowEnd(running, hydrated),
    composer: useRef<HTMLTextAreaElement>(null),
    form: useRef<HTMLFormElement>(null),
  };
  const act = chatActions(s, {
    projectId: start.project.id,
    firstMessageId: start.firstMessageId,
    olderCount: start.olderCount,
    started: (run) => feed.started(run),
  });
  const announced = useRef(new Set<string>());

  // Tick elapsed times only while a run is going.
  useSignalEffect(() => {
    if (!running.value) return;
    s.now.value = serverNow();
    const timer = setInterval(() => s.now.value = serverNow(), 100);
    return () => clearInterval(timer);
  });

  useEffect(() => {
    hydrated.value = true;
    const online = () => act.reachable();
    addEventListener("online", online);
    return () => removeEventListener("online", online);
  }, []);

  /** Puts focus back in the composer if the person was there (or nowhere). */
  function restoreFocus() {
    const active = document.activeElement;
    if (!active || active === document.body || s.form.current?.contains(active)) s.composer.current?.focus();
  }

  /** Says each step once when it starts, then how the run ended. */
  function announce(event: RunEvent) {
    const line = announcementFor(event);
    const key = event.type === "progress" ? `${event.runId}:${event.progress.step}` : `${event.runId}:end`;
    if (line === null || announced.current.has(key)) return;
    announced.current.add(key);
    s.announcement.value = line;
  }

  /** A run ended: its memories are marked (the feed brings the answer and the memories themselves). */
  function onEnd(event: TerminalEvent) {
    if (event.type === "result") s.fresh.value = event.result.memories.added.map((m) => m.id);
    if (!own.value.includes(event.runId)) return;
    s.stopping.value = false;
    restoreFocus();
  }

  /** What any tab or device did in this project, as its feed tells it. */
  function onProjectChange(change: ProjectChange) {
    const { messages, memories } = s;
    // A long answer comes cut on the feed: read the conversation whole.
    if (change.type === "message.added") {
      change.message.truncated ? act.refresh() : messages.value = withMessage(messages.value, change.message);
    } else if (change.type === "run.started") {
      // This page's message, started before its POST answered: Stop it from now on.
      if (sending.value && localCopyIndex(messages.value, change.run.runId, change.run.message) >= 0) {
        act.adopt(change.run.runId);
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
      s.announcement.value = "This project was deleted.";
    }
  }

  // Made once, calling the latest actions: unchanged exchanges keep equal props.
  const latest = useRef(act);
  latest.current = act;
  const actions = useRef<ExchangeActions>({
    unfold: (key) => s.unfolded.value = toggled(s.unfolded.value, key),
    retry: (event, message) => {
      event.preventDefault();
      latest.current.send(message);
    },
    toggleSteps: (event, runId) => latest.current.toggleSteps(event, runId),
  }).current;

  return { ...s, send: act.send, stop: act.stop, forget: act.forget, actions };
}
