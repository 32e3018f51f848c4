import type { Exchange as ExchangeData } from "../lib/exchanges.ts";
import type { MessageStatus } from "../lib/protocol.ts";
import { Markdown } from "./Markdown.tsx";
import { StepRail, type StepRailProps } from "./StepRail.tsx";

/** A user's message longer than this folds behind "Show more" (once the island runs). */
const LONG_CHARS = 600;
const LONG_LINES = 10;

const ENDED_NOTE: Record<MessageStatus, string> = {
  cancelled: "Stopped before an answer.",
  interrupted: "Interrupted: the server stopped before it answered.",
  failed: "This message did not get an answer.",
};

/** Whether a message is long enough to fold. */
export function isLong(text: string): boolean {
  return text.length > LONG_CHARS || text.split("\n").length > LONG_LINES;
}

/** What one exchange shows. */
export interface ExchangeProps {
  exchange: ExchangeData;
  projectId: string;
  /** The run's rail, when the exchange has a run. */
  rail: StepRailProps | null;
  /** The answer's text: saved, or so far while it streams. */
  answer: string | null;
  streaming: boolean;
  /** How the run ended without an answer, and why, when it did. */
  ended: { status: MessageStatus; reason: string | null } | null;
  /** The long message is unfolded. */
  unfolded: boolean;
  onUnfold?: () => void;
  onRetry?: (event: Event, message: string) => void;
  /** This is the last exchange: `id="latest"`, the target of the no-JavaScript redirect. */
  latest: boolean;
}

/** One exchange: the user's message, the run's step rail, then the answer. */
export function Exchange(props: ExchangeProps) {
  const { exchange, rail, answer, streaming, ended, latest } = props;
  const user = exchange.user;
  const long = user ? isLong(user.content) : false;
  return (
    <li
      class="exchange"
      data-exchange
      data-run-id={exchange.runId ?? undefined}
      id={latest ? "latest" : exchange.runId ? `x-${exchange.runId}` : undefined}
    >
      {user && (
        <div class="msg msg-user" data-role="user" data-status={ended?.status ?? user.status}>
          <div class={`bubble${long && !props.unfolded ? " folded" : ""}`}>{user.content}</div>
          {long && (
            <button type="button" class="more" onClick={props.onUnfold} aria-expanded={props.unfolded}>
              {props.unfolded ? "Show less" : "Show more"}
            </button>
          )}
        </div>
      )}
      {rail && <StepRail {...rail} />}
      {answer !== null && (answer !== "" || !streaming) && (
        <div
          class="msg msg-assistant"
          data-role="assistant"
          data-live={streaming ? "streaming" : undefined}
          aria-busy={streaming ? "true" : undefined}
        >
          <div class="prose" data-answer>
            <Markdown text={answer} streaming={streaming} />
          </div>
        </div>
      )}
      {ended && user && (
        <div class="ended" data-ended={ended.status}>
          <p class="msg-note">
            {ENDED_NOTE[ended.status]}
            {ended.reason && ` ${ended.reason}`}
          </p>
          <form
            method="post"
            action={`/projects/${props.projectId}/messages`}
            onSubmit={props.onRetry && ((e) => props.onRetry!(e, user.content))}
          >
            <input type="hidden" name="message" value={user.content} />
            <button type="submit" class="secondary" data-retry>Retry</button>
          </form>
        </div>
      )}
    </li>
  );
}
