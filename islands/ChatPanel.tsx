import { useComputed } from "@preact/signals";
import { useRef } from "preact/hooks";
import { Composer } from "../components/Composer.tsx";
import { Exchange, type ExchangeActions } from "../components/Exchange.tsx";
import { MemoryList } from "../components/MemoryList.tsx";
import { connectionWords } from "../lib/client/conversation.ts";
import { type ChatStart, useChat } from "../lib/client/use_chat.ts";
import { scrollToEnd } from "../lib/client/use_follow_end.ts";
import { type Exchange as ExchangeData, groupExchanges } from "../lib/exchanges.ts";
import type { Message } from "../lib/protocol.ts";
import { messageStatusOf } from "../lib/runs/outcome.ts";
import { statusOfTimeline } from "../lib/timeline.ts";
import { explainError } from "../lib/timeline_words.ts";
import { urls } from "../lib/urls.ts";

/** What the server hands the island (and renders with it). */
export interface ChatPanelProps extends ChatStart {
  engine: { name: string; model: string };
  /** The messages of the earlier exchanges: on the server only, never sent to the browser. */
  olderMessages?: Message[];
}

/**
 * The conversation as exchanges with their live steps, the composer, and the
 * memories; once the project is deleted, only that, with the way back. The
 * state and the actions are {@linkcode useChat}'s; this is the view.
 */
export default function ChatPanel(props: ChatPanelProps) {
  const chat = useChat(props);
  const { project } = props;
  const { timelines, expanded, now, hydrated, ownRunning, atBottom, sending } = chat;
  const exchanges = useComputed(() => groupExchanges(chat.messages.value));
  /** The earlier exchanges as the server rendered them, taken from the page before hydration. */
  const olderHtml = useRef<string | null>(null);
  if (olderHtml.current === null && typeof document !== "undefined") {
    olderHtml.current = document.querySelector("#chat [data-older]")?.innerHTML ?? "";
  }
  // The one live region: each step once when it starts, then the outcome.
  const announcer = (
    <p class="visually-hidden" aria-live="polite" data-announcer>
      {chat.announcement.value}
    </p>
  );

  if (chat.deleted.value) {
    return (
      <div class="chat" data-hydrated>
        <section class="welcome" data-deleted>
          <h2>This project was deleted.</h2>
          <p>
            In another tab or by someone else. <a href="/">See all projects</a>
          </p>
        </section>
        {announcer}
      </div>
    );
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
      chat.send(chat.draft.value);
    } else if (event.key === "Escape" && ownRunning.value) {
      event.preventDefault();
      chat.stop();
    }
  }

  const conn = chat.connection.value;
  /** One exchange's view; `actions` null for the static earlier ones. */
  function renderExchange(x: ExchangeData, latest: boolean, actions: ExchangeActions | null) {
    const runId = x.runId;
    const t = runId ? timelines.value[runId] ?? null : null;
    const open = runId !== null && expanded.value.includes(runId);
    const outcome = t?.outcome;
    const live = outcome === "running";
    // Marked by the server, or ended here without an answer.
    const status = x.user?.status ?? (t && messageStatusOf(statusOfTimeline(t)));
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
        unfolded={chat.unfolded.value.includes(x.key)}
        // Steps show for the latest run and for runs the person opened.
        timeline={latest || open ? t : null}
        info={runId ? chat.infos.value[runId] ?? null : null}
        open={open}
        now={live ? now.value : 0}
        connection={live && conn !== "idle" ? conn : null}
        connectionWords={live && conn !== "idle" ? connectionWords(conn, chat.restarted.value) : ""}
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
          <span class="count">{chat.memories.value.length}</span>
        </summary>
        <MemoryList
          memories={chat.memories.value}
          forgetUrl={(m) => urls.pageForget(project.id, m.id)}
          onForget={chat.forget}
          fresh={chat.fresh.value}
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
        {list.length === 0 && props.olderCount === 0
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
              {list.map((x, i) => renderExchange(x, i === lastIndex, chat.actions))}
            </ol>
          )}

        <Composer
          projectId={project.id}
          formRef={chat.form}
          textareaRef={chat.composer}
          draft={chat.draft.value}
          busy={chat.busy.value}
          sending={sending.value}
          stoppable={ownRunning.value}
          stopping={chat.stopping.value}
          notice={chat.notice.value}
          offerJump={!atBottom.value && hydrated.value}
          reason={reason}
          onDraft={(text) => chat.draft.value = text}
          onSend={() => chat.send(chat.draft.value)}
          onStop={chat.stop}
          onJump={() => {
            // Following again: every render from now on keeps the end in view.
            atBottom.value = true;
            scrollToEnd("instant");
          }}
          onKeyDown={onKeyDown}
        />
      </section>
      {announcer}
    </div>
  );
}
