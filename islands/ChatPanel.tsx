import { useComputed, useSignal, useSignalEffect } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type ConnectionState, RunFollower } from "../lib/client/run_follower.ts";
import type {
  ChatResult,
  ErrorBody,
  Memory,
  Project,
  RunEvent,
  RunRecord,
  RunStarted,
} from "../lib/protocol.ts";
import {
  announcementFor,
  applyEvent,
  emptyTimeline,
  explainError,
  formatDuration,
  STEP_LABELS,
  stepsFinished,
  type Timeline as TimelineState,
  timelineFromRecord,
} from "../lib/timeline.ts";
import { Conversation, type LiveAnswer, type RenderedMessage } from "../components/Conversation.tsx";
import { MemoryList } from "../components/MemoryList.tsx";
import { Timeline } from "../components/Timeline.tsx";

/** What the server hands the island (also rendered on the server). */
export interface ChatPanelProps {
  project: Project;
  messages: RenderedMessage[];
  memories: Memory[];
  /** A run still going when the page was rendered: the island reattaches. */
  activeRun: RunStarted | null;
  /** The last run, when it has ended: the timeline shows how it went. */
  lastRun?: RunRecord | null;
  engine: { name: string; model: string };
  /** A message for the no-JavaScript form's result, if any. */
  notice?: string;
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: "",
  connecting: "Connecting…",
  live: "Live",
  offline: "Offline, retrying",
  reconnecting: "Reconnecting…",
  fallback: "No live updates; waiting for the answer",
};

const OUTCOME_TEXT: Record<NonNullable<TimelineState["outcome"]>, string> = {
  running: "Working",
  succeeded: "Finished",
  failed: "Failed",
  cancelled: "Stopped",
};

/** One line on where the run stands: steps done, or where it ended and how long it took. */
function summary(t: TimelineState, finished: number, total: string): string {
  const where = t.steps.find((s) => s.status === "error" || s.status === "cancelled");
  const after = total ? `, after ${total}` : "";
  if (t.outcome === "succeeded") return `${t.steps.length} steps${total ? ` in ${total}` : ""}`;
  if (t.outcome === "failed") {
    return where ? `Failed at ${STEP_LABELS[where.step]}${after}` : `Failed${after}`;
  }
  if (t.outcome === "cancelled") {
    return where ? `Stopped at ${STEP_LABELS[where.step]}${after}` : `Stopped${after}`;
  }
  return `${finished} of ${t.steps.length} steps done`;
}

/** The terminal event a finished run's record stands for, after `lastSeq`. */
function terminalOf(record: RunRecord, lastSeq: number): RunEvent {
  const stamp = {
    runId: record.id,
    seq: Math.max(record.lastSeq, lastSeq + 1),
    ts: record.endedAt ? Date.parse(record.endedAt) : Date.now(),
  };
  if (record.status === "succeeded" && record.result) {
    return { type: "result", result: record.result, ...stamp };
  }
  if (record.status === "cancelled") {
    return { type: "cancelled", cancelled: { message: "Stopped before it finished.", step: null }, ...stamp };
  }
  const error = record.error ??
    { code: "internal_error", message: "The run ended without an answer.", step: null };
  return { type: "error", error, ...stamp };
}

/** An API error with its HTTP status (0: no answer at all). */
class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers: { accept: "application/json", ...(init?.body ? { "content-type": "application/json" } : {}) },
    });
  } catch {
    throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as ErrorBody | null)?.error?.message ?? `The server answered ${res.status}.`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The conversation, the live timeline, the composer and the memories. */
export default function ChatPanel(props: ChatPanelProps) {
  const { project, activeRun } = props;
  const base = `/api/projects/${project.id}`;
  const messages = useSignal(props.messages);
  const memories = useSignal(props.memories);
  const freshMemories = useSignal<string[]>([]);
  const timeline = useSignal<TimelineState>(
    activeRun
      ? emptyTimeline(activeRun.runId)
      : props.lastRun
      ? timelineFromRecord(props.lastRun)
      : emptyTimeline(),
  );
  const run = useSignal<RunStarted | null>(activeRun);
  const connection = useSignal<ConnectionState>(activeRun ? "connecting" : "idle");
  const sending = useSignal(false);
  const stopping = useSignal(false);
  const problem = useSignal<string | null>(props.notice ?? null);
  /** The finished answer, shown until the saved conversation has it. */
  const settled = useSignal<string | null>(null);
  /** Now on the server's clock (see `clockOffset`), for elapsed times. */
  const now = useSignal(0);
  const announcement = useSignal("");
  const draft = useSignal("");
  const hydrated = useSignal(false);
  const follower = useRef<RunFollower | null>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const form = useRef<HTMLFormElement>(null);
  /** Browser clock minus server clock, at most: the smallest (receipt − ts) seen. */
  const clockOffset = useRef(Number.POSITIVE_INFINITY);
  const announced = useRef(new Set<string>());

  const busy = useComputed(() => sending.value || timeline.value.outcome === "running");
  const live = useComputed<LiveAnswer | null>(() => {
    const t = timeline.value;
    if (t.outcome === "running" && run.value) return { text: t.answer, done: false };
    if (settled.value !== null) return { text: settled.value, done: true };
    return null;
  });

  const serverNow = () => Date.now() - (Number.isFinite(clockOffset.current) ? clockOffset.current : 0);

  const going = useComputed(() => timeline.value.outcome === "running");

  // Tick elapsed times only while a run is going.
  useSignalEffect(() => {
    if (!going.value) return;
    now.value = serverNow();
    const timer = setInterval(() => now.value = serverNow(), 100);
    return () => clearInterval(timer);
  });

  // Keep the composer in view when the conversation grows above it and
  // pushes it out, if it was in view; scrolling by the person never moves it.
  const formTop = useRef<number | null>(null);
  useEffect(() => {
    const el = form.current;
    if (!el) return;
    const box = el.getBoundingClientRect();
    const top = box.top + scrollY;
    const before = formTop.current;
    formTop.current = top;
    if (!busy.value || before === null || top <= before) return;
    const bottomBefore = box.bottom - (top - before);
    if (bottomBefore <= innerHeight && box.bottom > innerHeight) el.scrollIntoView({ block: "end" });
  });

  async function refresh(): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [m, mem] = await Promise.all([
          api<RenderedMessage[]>(`${base}/messages?format=html`),
          api<Memory[]>(`${base}/memories`),
        ]);
        messages.value = m;
        memories.value = mem;
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

  async function finish(answer: string | null) {
    run.value = null;
    stopping.value = false;
    settled.value = answer;
    const ok = await refresh();
    if (ok) settled.value = null;
    else problem.value = "The answer is saved, but the conversation could not be reloaded. Reload the page.";
    restoreFocus();
  }

  function onEvent(event: RunEvent) {
    clockOffset.current = Math.min(clockOffset.current, Date.now() - event.ts);
    timeline.value = applyEvent(timeline.value, event);
    announce(event);
    if (event.type === "result") {
      freshMemories.value = event.result.memories.added.map((m) => m.id);
      finish(event.result.message);
    } else if (event.type === "error") {
      problem.value = explainError(event.error);
      finish(null);
    } else if (event.type === "cancelled") {
      finish(null);
    }
  }

  /**
   * When event streams cannot be followed: wait for the run's record, then
   * end the timeline with the terminal event the record stands for.
   */
  async function waitForRecord(started: RunStarted) {
    const url = `${base}/runs/${started.runId}?wait=25`;
    for (let i = 0; i < 60; i++) {
      const asked = Date.now();
      try {
        const record = await api<RunRecord>(url);
        if (record.status !== "running") {
          connection.value = "idle";
          onEvent(terminalOf(record, timeline.value.lastSeq));
          return;
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) break;
      }
      // A server without long polling answers at once: do not hammer it.
      if (Date.now() - asked < 1000) await pause(1000);
    }
    connection.value = "idle";
    onEvent({
      type: "error",
      runId: started.runId,
      seq: timeline.value.lastSeq + 1,
      ts: serverNow(),
      error: {
        code: "lost",
        message: "Lost track of this run. Reload the page to see where it stands.",
        step: null,
      },
    });
  }

  function follow(started: RunStarted) {
    follower.current?.stop();
    run.value = started;
    settled.value = null;
    freshMemories.value = [];
    timeline.value = emptyTimeline(started.runId);
    const f = new RunFollower(started.eventsUrl, `${base}/runs/${started.runId}`, {
      onEvent,
      onState: (state) => connection.value = state,
      onBlocked: () => waitForRecord(started),
      onEnded: () => waitForRecord(started),
    });
    follower.current = f;
    f.start(0);
  }

  useEffect(() => {
    hydrated.value = true;
    if (activeRun) follow(activeRun);
    return () => follower.current?.stop();
  }, []);

  async function send(event?: Event) {
    event?.preventDefault();
    const message = draft.value.trim();
    if (!message || busy.value) return;
    sending.value = true;
    problem.value = null;
    const optimistic: RenderedMessage = {
      id: `local-${Date.now()}`,
      role: "user",
      content: message,
      runId: null,
      createdAt: new Date().toISOString(),
      html: "",
    };
    // Shown at once; taken back (and the draft restored) if it was not sent.
    const before = messages.value;
    messages.value = [...before, optimistic];
    draft.value = "";
    try {
      if (typeof EventSource === "undefined") {
        // No EventSource at all: the non-streaming route, said so on the page.
        connection.value = "fallback";
        const result = await api<ChatResult>(`${base}/chat`, {
          method: "POST",
          body: JSON.stringify({ message }),
        });
        connection.value = "idle";
        freshMemories.value = result.memories.added.map((m) => m.id);
        await finish(null);
        return;
      }
      const started = await api<RunStarted>(`${base}/runs`, {
        method: "POST",
        body: JSON.stringify({ message }),
      });
      messages.value = [...before, { ...optimistic, runId: started.runId }];
      follow(started);
    } catch (error) {
      connection.value = "idle";
      if (messages.value.includes(optimistic)) messages.value = before;
      if (draft.value === "") draft.value = message;
      problem.value = `Your message was not sent: ${(error as Error).message}`;
    } finally {
      sending.value = false;
    }
  }

  async function stop(event?: Event) {
    event?.preventDefault();
    const current = run.value;
    if (!current || stopping.value) return;
    stopping.value = true;
    try {
      await api(current.cancelUrl, { method: "POST" });
    } catch (error) {
      stopping.value = false;
      problem.value = `Could not stop the run: ${(error as Error).message} Try Stop again.`;
    }
  }

  async function forget(memory: Memory) {
    try {
      await api(`${base}/memories/${memory.id}`, { method: "DELETE" });
      memories.value = memories.value.filter((m) => m.id !== memory.id);
      announcement.value = `Forgot "${memory.text}".`;
    } catch (error) {
      problem.value = `Could not forget it: ${(error as Error).message}`;
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && run.value) {
      event.preventDefault();
      stop();
    }
  }

  const t = timeline.value;
  const running = t.outcome === "running";
  const reason = sending.value
    ? "Sending your message…"
    : running
    ? "Lantern is working on your message. Stop it (or press Esc) to send another."
    : hydrated.value
    ? "Enter sends, Shift+Enter starts a new line."
    : "";
  const finished = stepsFinished(t);
  const total = t.startedAt !== null && t.endedAt !== null ? formatDuration(t.endedAt - t.startedAt) : "";

  return (
    <div class="chat" data-hydrated={hydrated.value ? "true" : undefined}>
      <section class="panel conversation-panel" aria-labelledby="conversation-title">
        <h2 id="conversation-title">Conversation</h2>
        <Conversation messages={messages.value} live={live.value} />
        {problem.value && (
          <p class="problem" role="alert" data-problem>
            {problem.value}
          </p>
        )}
        <form
          ref={form}
          method="post"
          action={`/projects/${project.id}/messages`}
          data-composer
          aria-busy={busy.value ? "true" : undefined}
          onSubmit={send}
        >
          <label for="message" class="composer-label">Your message</label>
          <textarea
            id="message"
            name="message"
            ref={composer}
            rows={3}
            required
            maxLength={32768}
            placeholder='Ask something, or "Remember that …"'
            value={draft.value}
            onInput={(e) => draft.value = e.currentTarget.value}
            onKeyDown={onKeyDown}
            // Read-only, not disabled, so focus stays where the person left it.
            readOnly={busy.value}
            aria-disabled={busy.value ? "true" : undefined}
            aria-describedby="composer-reason"
          />
          <div class="composer-bar">
            <span id="composer-reason" class="muted" data-reason>{reason}</span>
            {run.value && running
              ? (
                <button
                  type="submit"
                  class="danger"
                  formAction={`/projects/${project.id}/runs/${run.value.runId}/cancel`}
                  formNoValidate
                  onClick={stop}
                  aria-disabled={stopping.value ? "true" : undefined}
                  data-stop
                >
                  {stopping.value ? "Stopping…" : "Stop"}
                </button>
              )
              : (
                <button type="submit" disabled={sending.value}>
                  {sending.value ? "Sending…" : "Send"}
                </button>
              )}
          </div>
        </form>
      </section>

      <section class="panel timeline-panel" aria-labelledby="timeline-title">
        <div class="panel-head">
          <h2 id="timeline-title">Run</h2>
          {connection.value !== "idle" && (
            <span class={`badge conn conn-${connection.value}`} data-connection={connection.value}>
              <span class="dot" aria-hidden="true" />
              {CONNECTION_TEXT[connection.value]}
            </span>
          )}
          {t.outcome && (
            <span class={`badge outcome-${t.outcome}`} data-outcome={t.outcome}>
              {OUTCOME_TEXT[t.outcome]}
            </span>
          )}
        </div>
        {(connection.value === "offline" || connection.value === "reconnecting") && (
          <p class="conn-note" data-connection-note>
            The connection dropped. The run goes on at the server, and this page catches up when it is back.
          </p>
        )}
        {connection.value === "fallback" && (
          <p class="conn-note" data-connection-note>
            Live updates cannot get through (a proxy, perhaps). The answer shows here when the run is done.
          </p>
        )}
        {t.runId === null
          ? <p class="muted">Each message is handled in eight steps; they show here, one by one.</p>
          : (
            <>
              <p class="run-summary muted" data-summary>
                {summary(t, finished, total)}
                {` · ${props.engine.name} engine`}
              </p>
              <Timeline timeline={t} now={now.value} />
            </>
          )}
        {/* The one live region: each step once when it starts, then the outcome. */}
        <p class="visually-hidden" aria-live="polite" data-announcer>{announcement.value}</p>
      </section>

      <section class="panel memory-panel" aria-labelledby="memory-title">
        <h2 id="memory-title">Memory</h2>
        <MemoryList
          memories={memories.value}
          forgetUrl={(m) => `/projects/${project.id}/memories/${m.id}/forget`}
          onForget={forget}
          fresh={freshMemories.value}
        />
      </section>
    </div>
  );
}
