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
import { applyEvent, emptyTimeline, STEP_LABELS, type Timeline as TimelineState } from "../lib/timeline.ts";
import { Conversation, type RenderedMessage } from "../components/Conversation.tsx";
import { MemoryList } from "../components/MemoryList.tsx";
import { Timeline } from "../components/Timeline.tsx";

/** What the server hands the island (also rendered on the server). */
export interface ChatPanelProps {
  project: Project;
  messages: RenderedMessage[];
  memories: Memory[];
  /** A run still going when the page was rendered: the island reattaches. */
  activeRun: RunStarted | null;
  engine: { name: string; model: string };
  /** A message for the no-JavaScript form's result, if any. */
  notice?: string;
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: "",
  connecting: "Connecting…",
  live: "Live",
  offline: "Offline: waiting for the server",
  reconnecting: "Reconnecting…",
  fallback: "Live updates are unavailable; waiting for the answer",
};

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, {
    ...init,
    headers: { accept: "application/json", ...(init?.body ? { "content-type": "application/json" } : {}) },
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as ErrorBody | null)?.error?.message ?? `The server answered ${res.status}.`;
    throw new Error(message);
  }
  return body as T;
}

/** The conversation, the live timeline, the composer and the memories. */
export default function ChatPanel(props: ChatPanelProps) {
  const { project } = props;
  const base = `/api/projects/${project.id}`;
  const messages = useSignal(props.messages);
  const memories = useSignal(props.memories);
  const timeline = useSignal<TimelineState>(emptyTimeline());
  const run = useSignal<RunStarted | null>(null);
  const connection = useSignal<ConnectionState>("idle");
  const sending = useSignal(false);
  const problem = useSignal<string | null>(props.notice ?? null);
  const now = useSignal(Date.now());
  const announcement = useSignal("");
  const draft = useSignal("");
  const follower = useRef<RunFollower | null>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const hydrated = useSignal(false);

  const busy = useComputed(() => sending.value || timeline.value.outcome === "running");
  const live = useComputed(() =>
    timeline.value.outcome === "running" && run.value ? timeline.value.answer : null
  );

  // Tick elapsed times only while a step is active.
  useSignalEffect(() => {
    if (timeline.value.outcome !== "running") return;
    const timer = setInterval(() => now.value = Date.now(), 100);
    return () => clearInterval(timer);
  });

  async function refresh() {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [m, mem] = await Promise.all([
          api<RenderedMessage[]>(`${base}/messages?format=html`),
          api<Memory[]>(`${base}/memories`),
        ]);
        messages.value = m;
        memories.value = mem;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
  }

  function announce(event: RunEvent) {
    if (event.type === "progress" && event.progress.phase !== "update") {
      const label = STEP_LABELS[event.progress.step];
      announcement.value = `${label}: ${event.progress.phase === "start" ? "started" : "done"}`;
    } else if (event.type === "result") announcement.value = "Answer ready";
    else if (event.type === "error") announcement.value = `Failed: ${event.error.message}`;
    else if (event.type === "cancelled") announcement.value = "Stopped";
  }

  function onEvent(event: RunEvent) {
    timeline.value = applyEvent(timeline.value, event);
    announce(event);
    if (event.type === "error") problem.value = `${event.error.message}`;
    if (event.type === "result" || event.type === "error" || event.type === "cancelled") {
      run.value = null;
      refresh().then(() => composer.current?.focus());
    }
  }

  async function waitForRecord(started: RunStarted) {
    const url = `${base}/runs/${started.runId}?wait=25`;
    for (let i = 0; i < 20; i++) {
      try {
        const record = await api<RunRecord>(url);
        if (record.status !== "running") {
          timeline.value = {
            ...timeline.value,
            outcome: record.status === "succeeded" ? "succeeded" : "failed",
          };
          run.value = null;
          if (record.error) problem.value = record.error.message;
          await refresh();
          connection.value = "idle";
          return;
        }
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  function follow(started: RunStarted) {
    follower.current?.stop();
    run.value = started;
    timeline.value = emptyTimeline(started.runId);
    const f = new RunFollower(started.eventsUrl, `${base}/runs/${started.runId}`, {
      onEvent,
      onState: (state) => connection.value = state,
      onBlocked: () => waitForRecord(started),
    });
    follower.current = f;
    f.start(0);
  }

  useEffect(() => {
    hydrated.value = true;
    if (props.activeRun) follow(props.activeRun);
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
    try {
      if (typeof EventSource === "undefined") {
        // No EventSource at all: the non-streaming route, said so on the page.
        messages.value = [...messages.value, optimistic];
        draft.value = "";
        connection.value = "fallback";
        await api<ChatResult>(`${base}/chat`, { method: "POST", body: JSON.stringify({ message }) });
        connection.value = "idle";
        await refresh();
        return;
      }
      const started = await api<RunStarted>(`${base}/runs`, {
        method: "POST",
        body: JSON.stringify({ message }),
      });
      messages.value = [...messages.value, { ...optimistic, runId: started.runId }];
      draft.value = "";
      follow(started);
    } catch (error) {
      problem.value = `Your message was not sent: ${(error as Error).message}`;
      connection.value = "idle";
    } finally {
      sending.value = false;
    }
  }

  async function stop() {
    const current = run.value;
    if (!current) return;
    try {
      await api(current.cancelUrl, { method: "POST" });
    } catch (error) {
      problem.value = `Could not stop the run: ${(error as Error).message}`;
    }
  }

  async function forget(memory: Memory) {
    try {
      await api(`${base}/memories/${memory.id}`, { method: "DELETE" });
      memories.value = memories.value.filter((m) => m.id !== memory.id);
    } catch (error) {
      problem.value = `Could not forget it: ${(error as Error).message}`;
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  const t = timeline.value;
  const reason = sending.value
    ? "Sending your message…"
    : t.outcome === "running"
    ? "Lantern is working on your message. Stop it to send another."
    : "";
  const outcomeText = t.outcome === "succeeded"
    ? "Finished"
    : t.outcome === "cancelled"
    ? "Stopped"
    : t.outcome === "failed"
    ? "Failed"
    : t.outcome === "running"
    ? "Working"
    : "";

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
        <form method="post" action={`/projects/${project.id}/messages`} data-composer onSubmit={send}>
          <label for="message" class="visually-hidden">Message</label>
          <textarea
            id="message"
            name="message"
            ref={composer}
            rows={3}
            required
            maxLength={32768}
            placeholder='Ask something, or "Remember that …" (Enter sends, Shift+Enter for a new line)'
            value={draft.value}
            onInput={(e) => draft.value = e.currentTarget.value}
            onKeyDown={onKeyDown}
            disabled={busy.value}
            aria-describedby="composer-reason"
          />
          <div class="composer-bar">
            <span id="composer-reason" class="muted" aria-live="polite">{reason}</span>
            {run.value && t.outcome === "running"
              ? <button type="button" class="danger" onClick={stop} data-stop>Stop</button>
              : <button type="submit" disabled={busy.value}>Send</button>}
          </div>
        </form>
      </section>

      <section class="panel timeline-panel" aria-labelledby="timeline-title">
        <div class="panel-head">
          <h2 id="timeline-title">Run</h2>
          {outcomeText && (
            <span class={`badge outcome-${t.outcome}`} data-outcome={t.outcome}>{outcomeText}</span>
          )}
          {connection.value !== "idle" && (
            <span class={`badge conn conn-${connection.value}`} data-connection={connection.value}>
              {CONNECTION_TEXT[connection.value]}
            </span>
          )}
        </div>
        {t.runId === null
          ? <p class="muted">Send a message to see each step of the agent here, live.</p>
          : <Timeline timeline={t} now={now.value} />}
        <div class="visually-hidden" aria-live="polite" data-announcer>{announcement.value}</div>
      </section>

      <section class="panel memory-panel" aria-labelledby="memory-title">
        <h2 id="memory-title">Memory</h2>
        <MemoryList memories={memories.value} onForget={forget} />
      </section>
    </div>
  );
}
