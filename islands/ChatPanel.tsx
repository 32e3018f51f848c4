import { useComputed, useSignal, useSignalEffect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { Composer } from "../components/Composer.tsx";
import { Exchange, type ExchangeActions } from "../components/Exchange.tsx";
import { MemoryList } from "../components/MemoryList.tsx";
import { api, ApiError, pause, readRunEvents } from "../lib/client/api.ts";
import { scrollToEnd, useFollowEnd } from "../lib/client/use_follow_end.ts";
import { connectionWords, LOCAL_ID, localCopyIndex, withMessage } from "../lib/client/conversation.ts";
import { type ProjectChange, useProjectFeed } from "../lib/client/use_project_feed.ts";
import { type Exchange as ExchangeData, groupExchanges, type RunInfo } from "../lib/exchanges.ts";
import type { ChatResult, Memory, Message, Project, RunEvent, RunStarted } from "../lib/protocol.ts";
import type { TerminalEvent } from "../lib/runs/outcome.ts";
import { announcementFor, explainError, foldEvents, type Timeline } from "../lib/timeline.ts";

/** What the server hands the island (and renders with it). */
export interface ChatPanelProps {
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
  engine: { name: string; model: string };
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
  /** The messages of those earlier exchanges: on the server only, never sent to the browser. */
  olderMessages?: Message[];
  /** The first message the island holds: a reload of the conversation keeps this one and later ones. */
  firstMessageId: string | null;
}

/** A notice at the composer, and what makes it go away. */
interface Notice {
  text: string;
  /** `network`: clears once the server answers again. */
  cause: "network" | "other";
}

/** The conversation as exchanges with their live steps, the composer, and the memories. */
export default function ChatPanel(props: ChatPanelProps) {
  const { project } = props;
  const base = `/api/projects/${project.id}`;
  const messages = useSignal(props.messages);
  const memories = useSignal(props.memories);
  const fresh = useSignal<string[]>([]);
  const expanded = useSignal<string[]>(props.expanded);
  const unfolded = useSignal<string[]>([]);
  const sending = useSignal(false);
  const stopping = useSignal(false);
  const notice = useSignal<Notice | null>(props.notice ? { text: props.notice, cause: "other" } : null);
  const now = useSignal(props.renderedAt);
  const announcement = useSignal("");
  const draft = useSignal("");
  const hydrated = useSignal(false);
  const composer = useRef<HTMLTextAreaElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const announced = useRef(new Set<string>());
  /** The earlier exchanges as the server rendered them, taken from the page before hydration. */
  const olderHtml = useRef<string | null>(null);
  if (olderHtml.current === null && typeof document !== "undefined") {
    olderHtml.current = document.querySelector("#chat [data-older]")?.innerHTML ?? "";
  }

  /**
   * Runs this page stands for: those it started, and those going when it was
   * rendered (as a page without JavaScript does). Its composer waits for the
   * latest of them, and Stop stops it; runs started elsewhere later do not
   * block it.
   */
  const own = useSignal<string[]>(
    Object.entries(props.timelines).filter(([, t]) => t.outcome === "running").map(([id]) => id),
  );
  const deleted = useSignal(false);

  const runs = useProjectFeed({
    projectId: project.id,
    instance: props.instance,
    position: props.position,
    timelines: props.timelines,
    infos: props.runs,
    onChange: announce,
    onEnd,
    onProjectChange,
    onReachable: reachable,
  });
  const { timelines, infos, connection, restarted, serverNow } = runs;

  const exchanges = useComputed(() => groupExchanges(messages.value));
  const running = useComputed(() => Object.values(timelines.value).some((t) => t.outcome === "running"));
  /** The run this page started that is still going (the composer waits for it; Stop stops it). */
  const ownRunning = useComputed(() =>
    own.value.findLast((id) => timelines.value[id]?.outcome === "running") ?? null
  );
  /** The view follows the stream until the person scrolls up. */
  const atBottom = useFollowEnd(running, hydrated);
  const busy = useComputed(() => sending.value || ownRunning.value !== null || deleted.value);

  // Tick elapsed times only while a run is going.
  useSignalEffect(() => {
    if (!running.value) return;
    now.value = serverNow();
    const timer = setInterval(() => now.value = serverNow(), 100);
    return () => clearInterval(timer);
  });

  function setNotice(text: string, cause: Notice["cause"]) {
    notice.value = { text, cause };
  }
  /** The server answered: a notice caused by the network is over. */
  function reachable() {
    if (notice.value?.cause === "network") notice.value = null;
  }

  async function refresh(): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [m, mem] = await Promise.all([
          api<Message[]>(`${base}/messages`),
          api<Memory[]>(`${base}/memories`),
        ]);
        const first = props.firstMessageId;
        messages.value = first === null || props.olderCount === 0 ? m : m.filter((x) => x.id >= first);
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

  /** What any tab or device did in this project, as its feed tells it. */
  function onProjectChange(change: ProjectChange) {
    // A long answer comes cut on the feed: read the conversation whole.
    if (change.type === "message.added") {
      change.message.truncated ? refresh() : messages.value = withMessage(messages.value, change.message);
    } else if (change.type === "run.started") {
      // This page's message, started before its POST answered: Stop it from now on.
      const mine = localCopyIndex(messages.value, change.run.runId, change.run.message) >= 0;
      if (sending.value && mine && !own.value.includes(change.run.runId)) {
        own.value = [...own.value, change.run.runId];
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

  useEffect(() => {
    hydrated.value = true;
    addEventListener("online", reachable);
    return () => removeEventListener("online", reachable);
  }, []);

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
    try {
      if (typeof EventSource === "undefined") {
        connection.value = "fallback";
        const result = await api<ChatResult>(`${base}/chat`, {
          method: "POST",
          body: JSON.stringify({ message }),
        });
        connection.value = "idle";
        fresh.value = result.memories.added.map((m) => m.id);
        await refresh();
        return;
      }
      const started = await api<RunStarted>(`${base}/runs`, {
        method: "POST",
        body: JSON.stringify({ message }),
      });
      reachable();
      // The feed may have brought the message already; otherwise this copy waits for it.
      messages.value = messages.value.map((m) =>
        m === optimistic ? { ...optimistic, runId: started.runId } : m
      );
      if (!own.value.includes(started.runId)) own.value = [...own.value, started.runId];
      runs.started(started);
    } catch (error) {
      connection.value = "idle";
      messages.value = messages.value.filter((m) => m !== optimistic);
      if (draft.value === "") draft.value = message;
      const network = error instanceof ApiError && error.status === 0;
      setNotice(`Your message was not sent: ${(error as Error).message}`, network ? "network" : "other");
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
      await api(`${base}/runs/${runId}/cancel`, { method: "POST" });
      reachable();
    } catch (error) {
      stopping.value = false;
      const network = error instanceof ApiError && error.status === 0;
      setNotice(
        `Could not stop the run: ${(error as Error).message} Try Stop again.`,
        network ? "network" : "other",
      );
    }
  }

  async function forget(memory: Memory) {
    try {
      await api(`${base}/memories/${memory.id}`, { method: "DELETE" });
      reachable();
      memories.value = memories.value.filter((m) => m.id !== memory.id);
      announcement.value = `Forgot "${memory.text}".`;
    } catch (error) {
      setNotice(`Could not forget it: ${(error as Error).message}`, "other");
    }
  }

  /** Opens or closes the steps of a run; a run not loaded yet is read from its log. */
  async function toggleSteps(event: Event, runId: string) {
    event.preventDefault();
    const open = expanded.value.includes(runId);
    expanded.value = open ? expanded.value.filter((id) => id !== runId) : [...expanded.value, runId];
    if (open || timelines.value[runId]) return;
    try {
      const events = await readRunEvents(`${base}/runs/${runId}/events`);
      timelines.value = { ...timelines.value, [runId]: foldEvents(events, runId) };
    } catch (error) {
      expanded.value = expanded.value.filter((id) => id !== runId);
      setNotice(`Could not show the steps: ${(error as Error).message}`, "other");
    }
  }

  /** A code block's Copy button (one handler for every block), and Show more in earlier exchanges. */
  function onThreadClick(event: MouseEvent) {
    const more = (event.target as Element | null)?.closest?.("[data-older] .more");
    const bubble = more?.parentElement?.querySelector(".bubble");
    if (more && bubble) {
      const open = bubble.classList.toggle("folded") === false;
      more.textContent = open ? "Show less" : "Show more";
      more.setAttribute("aria-expanded", String(open));
      return;
    }
    const button = (event.target as Element | null)?.closest?.("[data-copy]");
    const code = button?.parentElement?.querySelector("pre")?.textContent;
    if (!button || code == null) return;
    navigator.clipboard?.writeText(code).then(() => {
      button.textContent = "Copied";
      setTimeout(() => button.textContent = "Copy", 1500);
    }, () => button.textContent = "Select and copy");
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(draft.value);
    } else if (event.key === "Escape" && ownRunning.value) {
      event.preventDefault();
      stop();
    }
  }

  // One object for every exchange, made once, so unchanged exchanges keep equal props.
  const handlers = useRef({ send, toggleSteps });
  handlers.current = { send, toggleSteps };
  const actions = useRef<ExchangeActions>({
    unfold: (key) =>
      unfolded.value = unfolded.value.includes(key)
        ? unfolded.value.filter((k) => k !== key)
        : [...unfolded.value, key],
    retry: (event, message) => {
      event.preventDefault();
      handlers.current.send(message);
    },
    toggleSteps: (event, runId) => handlers.current.toggleSteps(event, runId),
  }).current;

  const conn = connection.value;
  /** One exchange's view; `actions` null for the static earlier ones. */
  function renderExchange(x: ExchangeData, latest: boolean, actions: ExchangeActions | null) {
    const runId = x.runId;
    const t = runId ? timelines.value[runId] ?? null : null;
    const open = runId !== null && expanded.value.includes(runId);
    const live = t?.outcome === "running";
    const outcome = t?.outcome;
    const status = x.user?.status ??
      (outcome === "cancelled"
        ? "cancelled"
        : outcome === "failed"
        ? (t?.error?.code === "interrupted" ? "interrupted" : "failed")
        : undefined);
    const ended = !x.answer && status && !live ? status : null;
    return (
      <Exchange
        key={x.key}
        exchange={x}
        projectId={project.id}
        latest={latest}
        answer={x.answer?.content ?? (t && (live || outcome === "succeeded") ? t.answer : null)}
        streaming={!x.answer && live}
        ended={ended}
        endedReason={ended && t?.error && outcome === "failed" ? explainError(t.error) : null}
        unfolded={unfolded.value.includes(x.key)}
        // Steps show for the latest run and for runs the person opened.
        timeline={latest || open ? t : null}
        info={runId ? infos.value[runId] ?? null : null}
        open={open}
        now={live ? now.value : 0}
        connection={live && conn !== "idle" ? conn : null}
        connectionWords={live && conn !== "idle" ? connectionWords(conn, restarted.value) : ""}
        actions={actions}
      />
    );
  }

  const list = exchanges.value;
  const lastIndex = list.length - 1;
  const reason = sending.value
    ? "Sending your message…"
    : ownRunning.value
    ? "Lantern is working on your message. Stop it (or press Esc) to send another."
    : hydrated.value
    ? "Enter sends, Shift+Enter starts a new line."
    : "";

  return (
    <div class="chat" data-hydrated={hydrated.value ? "true" : undefined}>
      <details class="memory-panel" aria-labelledby="memory-title">
        <summary>
          <h2 id="memory-title">Memory</h2>
          <span class="count">{memories.value.length}</span>
        </summary>
        <MemoryList
          memories={memories.value}
          forgetUrl={(m) => `/projects/${project.id}/memories/${m.id}/forget`}
          onForget={forget}
          fresh={fresh.value}
        />
      </details>

      <section class="thread" aria-label="Conversation" onClick={onThreadClick}>
        {props.olderCount > 0 && (props.olderMessages
          ? (
            <div class="older" data-older>
              <ol class="exchanges">
                {groupExchanges(props.olderMessages).map((x) => renderExchange(x, false, null))}
              </ol>
            </div>
          )
          // deno-lint-ignore react-no-danger
          : <div class="older" data-older dangerouslySetInnerHTML={{ __html: olderHtml.current ?? "" }} />)}
        {list.length === 0 && props.olderCount === 0 && !deleted.value
          ? (
            <div class="welcome">
              <h2>What should Lantern do?</h2>
              <p>
                Ask something, or tell it what to remember ("Remember that the launch is on May 3"). You will
                see each step of its work as it happens.
              </p>
            </div>
          )
          : (
            <ol class="exchanges">
              {list.map((x, i) => renderExchange(x, i === lastIndex, actions))}
            </ol>
          )}

        {deleted.value && (
          <p class="notice deleted" role="alert" data-deleted>
            This project was deleted, in another tab or by someone else. <a href="/">See all projects</a>
          </p>
        )}
        <Composer
          projectId={project.id}
          formRef={form}
          textareaRef={composer}
          draft={draft.value}
          busy={busy.value}
          sending={sending.value}
          stoppable={ownRunning.value}
          stopping={stopping.value}
          hidden={deleted.value}
          notice={notice.value}
          offerJump={!atBottom.value && hydrated.value}
          reason={reason}
          onDraft={(text) => draft.value = text}
          onSend={() => send(draft.value)}
          onStop={stop}
          onJump={() => {
            // Following again: every render from now on keeps the end in view.
            atBottom.value = true;
            scrollToEnd("instant");
          }}
          onKeyDown={onKeyDown}
        />
      </section>
      {/* The one live region: each step once when it starts, then the outcome. */}
      <p class="visually-hidden" aria-live="polite" data-announcer>{announcement.value}</p>
    </div>
  );
}
