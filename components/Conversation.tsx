import type { Message } from "../lib/protocol.ts";

/** A message with its answer rendered as safe HTML (see lib/markdown.ts). */
export type RenderedMessage = Message & { html: string };

const STATUS_NOTE: Record<string, string> = {
  cancelled: "Stopped before an answer.",
  interrupted: "Interrupted: the server stopped before it answered. Send it again.",
  failed: "This message did not get an answer.",
};

/** The conversation, oldest first. `live` is the answer being streamed. */
export function Conversation(
  { messages, live }: { messages: RenderedMessage[]; live: string | null },
) {
  return (
    <ol class="conversation" aria-label="Conversation">
      {messages.length === 0 && live === null && (
        <li class="empty">No messages yet. Ask something, or say "Remember that …".</li>
      )}
      {messages.map((m) => (
        <li key={m.id} class={`msg msg-${m.role}`} data-role={m.role} data-status={m.status}>
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
        <li class="msg msg-assistant msg-live" data-role="assistant" data-live aria-busy="true">
          <span class="msg-who">Lantern</span>
          <div class="msg-text plain">
            {live}
            <span class="caret" aria-hidden="true" />
          </div>
        </li>
      )}
    </ol>
  );
}
