import { Component } from "preact";
import { ENDED_LABELS, type Exchange as ExchangeData, type RunInfo } from "../lib/exchanges.ts";
import type { MessageStatus } from "../lib/protocol.ts";
import type { Timeline } from "../lib/timeline.ts";
import { urls } from "../lib/urls.ts";
import { Markdown } from "./Markdown.tsx";
import { StepRail } from "./StepRail.tsx";

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

/** What the person can do on an exchange; one object for the whole list, so props stay equal. */
export interface ExchangeActions {
  unfold(key: string): void;
  retry(event: Event, message: string): void;
  toggleSteps(event: Event, runId: string): void;
}

/**
 * What one exchange shows. Every prop is a primitive or an object that only
 * changes when what it shows changes, so an exchange that did not change is
 * not rendered again (see {@linkcode Exchange}).
 */
export interface ExchangeProps {
  exchange: ExchangeData;
  projectId: string;
  /** The answer's text: saved, or so far while it streams. */
  answer: string | null;
  streaming: boolean;
  /** How the run ended without an answer, and why, when it did. */
  ended: MessageStatus | null;
  endedReason: string | null;
  /** The long message is unfolded. */
  unfolded: boolean;
  /** This is the last exchange: `id="latest"`, the target of the no-JavaScript redirect. */
  latest: boolean;
  /** The run's steps, when shown (the latest run, or one the person opened). */
  timeline: Timeline | null;
  info: RunInfo | null;
  open: boolean;
  /** Now on the server's clock: only for a running exchange (0 otherwise, so it does not re-render). */
  now: number;
  /** The connection's state and words, on a live exchange. */
  connection: string | null;
  connectionWords: string;
  actions: ExchangeActions | null;
}

function shallowEqual(a: object, b: object): boolean {
  const x = a as Record<string, unknown>, y = b as Record<string, unknown>;
  for (const key in x) if (x[key] !== y[key]) return false;
  for (const key in y) if (!(key in x)) return false;
  return true;
}

/** One exchange: the user's message, the run's step rail, then the answer. */
export class Exchange extends Component<ExchangeProps> {
  /** An exchange whose props did not change is left as it is (a long conversation stays cheap). */
  override shouldComponentUpdate(next: ExchangeProps): boolean {
    return !shallowEqual(this.props, next);
  }

  override render() {
    const p = this.props;
    const { exchange, answer, streaming, ended, latest, actions } = p;
    const user = exchange.user;
    const runId = exchange.runId;
    const long = user ? isLong(user.content) : false;
    return (
      <li
        class="exchange"
        data-exchange
        data-run-id={runId ?? undefined}
        id={latest ? "latest" : runId ? `x-${runId}` : undefined}
      >
        {user && (
          <div class="msg msg-user" data-role="user" data-status={ended ?? user.status}>
            <div class={`bubble${long && !p.unfolded ? " folded" : ""}`}>{user.content}</div>
            {long && (
              <button
                type="button"
                class="more"
                onClick={() => actions?.unfold(exchange.key)}
                aria-expanded={p.unfolded}
              >
                {p.unfolded ? "Show less" : "Show more"}
              </button>
            )}
          </div>
        )}
        {runId && (
          <StepRail
            runId={runId}
            timeline={p.timeline}
            info={p.info}
            open={p.open}
            now={p.now}
            href={`${urls.projectPage(p.projectId)}?steps=${runId}#x-${runId}`}
            onToggle={actions ? (e) => actions.toggleSteps(e, runId) : undefined}
            connection={p.connection
              ? (
                <span class={`conn conn-${p.connection}`} data-connection={p.connection}>
                  <span class="dot" aria-hidden="true" />
                  {p.connectionWords}
                </span>
              )
              : null}
          />
        )}
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
          <div class="ended" data-ended={ended}>
            <p class="msg-note">
              {p.endedReason ? `${ENDED_LABELS[ended]}: ${p.endedReason}` : ENDED_NOTE[ended]}
            </p>
            <form
              method="post"
              action={urls.pageMessages(p.projectId)}
              onSubmit={actions ? (e) => actions.retry(e, user.content) : undefined}
            >
              <input type="hidden" name="message" value={user.content} />
              <button type="submit" class="secondary" data-retry>Retry</button>
            </form>
          </div>
        )}
      </li>
    );
  }
}
