import type { Ref } from "preact";
import { urls } from "../lib/urls.ts";

/** What the composer shows and does; the island owns the state. */
export interface ComposerProps {
  projectId: string;
  formRef: Ref<HTMLFormElement>;
  textareaRef: Ref<HTMLTextAreaElement>;
  draft: string;
  /** Read-only while this page's run goes (or it is sending). */
  busy: boolean;
  sending: boolean;
  /** The run Stop stops, if one of this page's runs goes. */
  stoppable: string | null;
  stopping: boolean;
  /** Shown above the box: a notice about what went wrong, and where it came from. */
  notice: { text: string; cause: string } | null;
  /** Offer "Jump to latest" (the person scrolled up while a run goes). */
  offerJump: boolean;
  reason: string;
  onDraft(text: string): void;
  onSend(): void;
  onStop(event: Event): void;
  onJump(): void;
  onKeyDown(event: KeyboardEvent): void;
}

/**
 * The message form at the bottom of a project page: a plain form (it posts
 * without JavaScript), with Send or Stop, the reason it waits, and notices.
 */
export function Composer(p: ComposerProps) {
  return (
    <form
      ref={p.formRef}
      method="post"
      action={urls.pageMessages(p.projectId)}
      class="composer"
      data-composer
      aria-busy={p.busy ? "true" : undefined}
      onSubmit={(e) => {
        e.preventDefault();
        p.onSend();
      }}
    >
      {p.offerJump && (
        <button type="button" class="jump" onClick={p.onJump} data-jump>
          <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
            <path d="M8 3v9M4 8l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.8" />
          </svg>
          Jump to latest
        </button>
      )}
      {p.notice && <p class="problem" role="alert" data-problem={p.notice.cause}>{p.notice.text}</p>}
      <label for="message" class="visually-hidden">Your message</label>
      <div class="composer-box">
        <textarea
          id="message"
          name="message"
          ref={p.textareaRef}
          rows={2}
          required
          maxLength={32768}
          placeholder='Ask something, or "Remember that …"'
          value={p.draft}
          onInput={(e) => p.onDraft(e.currentTarget.value)}
          onKeyDown={p.onKeyDown}
          // Read-only, not disabled, so focus stays where the person left it.
          readOnly={p.busy}
          aria-disabled={p.busy ? "true" : undefined}
          aria-describedby="composer-reason"
        />
        {p.stoppable
          ? (
            <button
              type="submit"
              class="send stop"
              formAction={urls.pageCancel(p.projectId, p.stoppable)}
              formNoValidate
              onClick={p.onStop}
              aria-disabled={p.stopping ? "true" : undefined}
              data-stop
            >
              {p.stopping ? "Stopping…" : "Stop"}
            </button>
          )
          : (
            <button type="submit" class="send" disabled={p.sending}>
              {p.sending ? "Sending…" : "Send"}
            </button>
          )}
      </div>
      <p id="composer-reason" class="hint" data-reason>{p.reason}</p>
    </form>
  );
}
