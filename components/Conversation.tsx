import type { ComponentChildren } from "preact";
import type { Message } from "../lib/protocol.ts";

/** A message with its answer rendered as safe HTML (see lib/markdown.ts). */
export type RenderedMessage = Message & { html: string };

/** The answer being streamed (`done` once it is complete but not yet saved). */
export interface LiveAnswer {
  text: string;
  done: boolean;
}

const STATUS_NOTE: Record<string, string> = {
  cancelled: "Stopped before an answer.",
  interrupted: "Interrupted: the server stopped before it answered. Send it again.",
  failed: "This message did not get an answer. Send it again.",
};

/**
 * A streamed answer as text with `**bold**` and `` `code` `` shown, built as
 * elements (never HTML), so a half-received answer cannot inject anything.
 * The saved answer replaces it with the server's full Markdown rendering.
 */
function streamingText(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const pattern = /\*\*([^*\n]+)\*\*|`([^`\n]+)`/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    out.push(match[1] !== undefined ? <strong>{match[1]}</strong> : <code>{match[2]}</code>);
    last = at + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** The conversation, oldest first. `live` is the answer being streamed. */
export function Conversation(
  { messages, live }: { messages: RenderedMessage[]; live: LiveAnswer | null },
) {
  const lastIndex = live === null ? messages.length - 1 : -1;
  return (
    <ol class="conversation" aria-label="Messages">
      {messages.length === 0 && live === null && (
        <li class="empty">No messages yet. Ask something, or say "Remember that …".</li>
      )}
      {messages.map((m, i) => (
        <li
          key={m.id}
          id={i === lastIndex ? "latest" : undefined}
          class={`msg msg-${m.role}`}
          data-role={m.role}
          data-status={m.status}
        >
          <span class="msg-who">{m.role === "user" ? "You" : "Lantern"}</span>
          {m.role === "assistant"
            // html comes from lib/markdown.ts, which escapes raw HTML.
            // deno-lint-ignore react-no-danger
            ? <div class="msg-text prose" dangerouslySetInnerHTML={{ __html: m.html }} />
            : <div class="msg-text plain">{m.content}</div>}
          {m.status && <p class="msg-note">{STATUS_NOTE[m.status]}</p>}
        </li>
      ))}
      {live !== null && (
        <li
          id="latest"
          class="msg msg-assistant msg-live"
          data-role="assistant"
          data-live={live.done ? "done" : "streaming"}
          aria-busy={live.done ? undefined : "true"}
        >
          <span class="msg-who">Lantern</span>
          <div class="msg-text plain">
            {live.text === "" && !live.done
              ? <span class="muted">Working on it</span>
              : streamingText(live.text)}
            {!live.done && <span class="caret" aria-hidden="true" />}
          </div>
        </li>
      )}
    </ol>
  );
}
