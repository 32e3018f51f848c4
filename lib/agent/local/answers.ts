/**
 * The local engine's answer to one request, worded from what its tools
 * returned: what was saved and what it replaced, yes / no / unknown to a
 * yes/no question, counts with the right plural, and "yet" only in a
 * project that has never been talked to.
 *
 * @module
 */

import type { ActionResult, Memory } from "../../protocol.ts";
import type { EngineContext } from "../engine.ts";
import { DEFAULT_BOUNDS } from "../../store/bounds.ts";
import { keywords } from "../words.ts";
import type { PlannedRequest } from "./engine.ts";
import { readFact } from "./facts.ts";
import { exclusive, type Kind, sameValue } from "./values.ts";
import { forgetsEverything } from "./reader.ts";
import { factOf } from "./resolve.ts";
import {
  bold,
  bullets,
  CAPABILITIES,
  capitalize,
  count,
  plural,
  quote,
  shorten,
  uncapitalize,
} from "./wording.ts";

const FAILED = "Something went wrong while I worked on that, so nothing changed. Please try again.";
const TELL_ME = 'Tell me with "Remember that …" and I\'ll know next time.';

/** The output of the `summarize_project` tool. */
interface SummaryOutput {
  memories: Memory[];
  messageCount: number;
  userMessages: number;
  recent: string[];
}

/** "I don't remember anything in this project yet": "yet" only before anything was said. */
function empty(ctx: EngineContext): string {
  return ctx.history.length === 0
    ? "I don't remember anything in this project yet."
    : "I don't remember anything in this project right now.";
}

/** Words one request's answer. */
export function compose(r: PlannedRequest, actions: ActionResult[], ctx: EngineContext): string {
  if (actions.some((a) => !a.ok)) return FAILED;
  switch (r.intent) {
    case "remember":
    case "update":
      return saved(r, actions, ctx.maxMemoryChars ?? DEFAULT_BOUNDS.maxMemoryChars);
    case "save_offered":
      return 'What should I remember? Tell me the fact, for example: "Remember that the launch is on May 3".';
    case "facts": {
      const n = r.facts.length;
      return `I found ${plural(n, "fact")} in your message:\n\n${bullets(r.facts.map((f) => f.text))}\n\n` +
        `Shall I remember ${n === 1 ? "it" : "them"}? Say "remember ${
          n === 1 ? "that" : "those"
        }" and I'll save ${n === 1 ? "it" : n === 2 ? "both" : `all ${n}`}.`;
    }
    case "forget":
      return forgot(r, actions, ctx);
    case "list":
    case "count": {
      const all = (actions[0]?.output ?? []) as Memory[];
      if (all.length === 0) return `${empty(ctx)} Tell me something with "Remember that …".`;
      if (r.intent === "count") return `I remember ${plural(all.length, "fact")} in this project.`;
      return `Here is what I remember (${plural(all.length, "memory", "memories")}):\n\n${bullets(all)}`;
    }
    case "recall":
      return recalled(r, actions, ctx);
    case "check":
      return checked(r, actions, ctx);
    case "summarize":
      return summary(actions, ctx);
    case "greeting":
      return `Hello! I'm Lantern's local assistant: I keep this project's memory and answer from it. I can:\n\n${CAPABILITIES}`;
    case "thanks":
      return "You're welcome! Tell me anything else worth remembering, or ask me what I know.";
    case "help":
      return `I'm Lantern's local assistant: I keep this project's memory and answer from it. I can:\n\n${CAPABILITIES}`;
    default:
      return other(r, ctx);
  }
}

function saved(r: PlannedRequest, actions: ActionResult[], maxChars: number): string {
  if (r.facts.length === 0) {
    return 'What should I remember? Tell me the fact, for example: "Remember that the launch is on May 3".';
  }
  const long = r.facts.find((f) => f.text.length > maxChars);
  if (long) {
    return `That is too long to remember as one fact (${count(long.text.length)} characters; ` +
      `the limit is ${count(maxChars)}). Please split it into shorter facts.`;
  }
  const lines = actions.map((a) => {
    const out = a.output as Memory & { replaced?: Memory[] };
    const old = out.replaced?.[0];
    if (old) return changed(out, old);
    return a.summary.startsWith("Already") ? null : out.text;
  });
  const news = lines.filter((l): l is string => l !== null);
  if (news.length === 0) {
    const known = actions.map((a) => (a.output as Memory).text);
    return known.length === 1
      ? `I already remember that:${bold(known[0]!)}`
      : `I already remember all of that:\n\n${bullets(known)}`;
  }
  if (actions.length === 1) {
    const out = actions[0]!.output as Memory & { replaced?: Memory[] };
    return out.replaced?.length ? `Got it. ${news[0]}` : `Got it. I'll remember:${bold(news[0]!)}`;
  }
  return `Got it. I'll remember ${
    news.length === actions.length ? `these ${news.length}` : `${news.length} new`
  }:\n\n${bullets(news)}`;
}

/** "The launch is now on May 10 (it was May 3)", in the user's words for both dates. */
function changed(now: Memory, old: Memory): string {
  const a = readFact(now.text);
  const b = factOf(old);
  if (!a || !b || a.verb !== "be" || b.verb !== "be") return `${now.text} (before: ${old.text}).`;
  const prep = a.prep || (a.kind === b.kind ? b.prep : "");
  const be = / are /i.test(` ${b.text} `) && !/ is /i.test(` ${b.text} `) ? "are" : "is";
  return `${capitalize(a.subject)} ${be} now ${prep ? `${prep} ` : ""}${a.bare} (it was ${b.bare}).`;
}

function forgot(r: PlannedRequest, actions: ActionResult[], ctx: EngineContext): string {
  if (!r.subject) return 'What should I forget? Tell me which fact, for example: "Forget the launch date".';
  if (forgetsEverything(r.subject)) {
    return "I only forget what you name, so nothing was deleted. Tell me which fact to forget, " +
      'for example "Forget the launch date", or use the Forget buttons next to the memories.';
  }
  const removed = (actions[0]?.output ?? []) as Memory[];
  if (removed.length > 0) {
    return `Done. I forgot ${removed.length === 1 ? "this" : `these ${removed.length}`}:\n\n${
      bullets(removed)
    }`;
  }
  return ctx.memories.length === 0
    ? `${empty(ctx).replace(/\.$/, "")}, so there was nothing to forget.`
    : `I don't have anything about ${quote(r.subject)} to forget, so nothing changed.`;
}

function unknown(subject: string, ctx: EngineContext): string {
  const n = ctx.memories.length;
  if (n === 0) {
    const none = ctx.history.length === 0
      ? "nothing has been saved in this project yet"
      : "I remember nothing right now";
    return `I don't know anything about ${quote(subject)}: ${none}. ${TELL_ME}`;
  }
  return `I don't know anything about ${quote(subject)}: ${
    n === 1 ? "my one memory doesn't mention it" : `none of my ${n} memories mention it`
  }. ${TELL_ME}`;
}

function recalled(r: PlannedRequest, actions: ActionResult[], ctx: EngineContext): string {
  if (!r.subject) {
    return 'What would you like to know? Ask about something you told me, for example: "When is the launch?"';
  }
  const found = (actions[0]?.output ?? []) as Memory[];
  if (found.length === 0) return unknown(r.subject, ctx);
  return found.length === 1
    ? `From what you told me:${bold(found[0]!.text)}`
    : `Here is what I know about ${quote(r.subject)}:\n\n${bullets(found)}`;
}

/** Yes, no (with what is known) or "I don't know", honestly. */
function checked(r: PlannedRequest, actions: ActionResult[], ctx: EngineContext): string {
  const found = (actions[0]?.output ?? []) as Memory[];
  const claim = r.claim;
  if (found.length === 0 || !claim) {
    return found.length === 0 ? unknown(r.subject, ctx) : recalled(r, actions, ctx);
  }
  const said = new Set([...keywords(claim.value), ...keywords(claim.subject)]);
  const same = found.filter((m) => factOf(m)?.key === claim.key);
  for (const m of same) {
    const f = factOf(m)!;
    const value = keywords(f.bare);
    const asked = keywords(claim.bare);
    const broader = asked.length > 0 && asked.every((w) => value.includes(w));
    if (sameValue(f.bare, claim.bare) || broader || (value.length > 0 && value.every((w) => said.has(w)))) {
      return `Yes. From what you told me:${bold(m.text)}`;
    }
  }
  const best = same[0];
  if (best) {
    const kind = factOf(best)!.kind as Kind;
    return exclusive(kind) && (kind === claim.kind || claim.kind === "what")
      ? `No. From what you told me:${bold(best.text)}`
      : `Not as far as I know. What I know is:${bold(best.text)}`;
  }
  return `I can't tell for sure. Here is what I know about ${quote(claim.subject)}:\n\n${bullets(found)}`;
}

function summary(actions: ActionResult[], ctx: EngineContext): string {
  const data = actions[0]!.output as SummaryOutput;
  const facts = data.memories.length === 0
    ? `${empty(ctx)} Tell me something with "Remember that …".`
    : `**What I remember** (${plural(data.memories.length, "memory", "memories")}):\n\n${
      bullets(data.memories)
    }`;
  const talk = data.messageCount - 1 <= 0
    ? "**Conversation:** this is the first message."
    : `**Conversation:** ${plural(data.messageCount, "message")} so far, ${data.userMessages} from you.`;
  const recent = data.recent.length === 0
    ? ""
    : `\n\n**Recently you asked:**\n\n${data.recent.map((t) => `- ${shorten(t)}`).join("\n")}`;
  return `## ${ctx.project.name.replace(/\s+/g, " ")}\n\n${facts}\n\n${talk}${recent}`;
}

function other(r: PlannedRequest, ctx: EngineContext): string {
  const text = ctx.message.trim();
  // A sentence that states something may be a fact the user wants kept.
  if (r.facts.length > 0 && !text.includes("\n") && text.length <= 300) {
    return `That sounds like a fact. If you want me to keep that, say: "Remember that ${
      uncapitalize(r.facts[0]!.text)
    }".`;
  }
  return `I can't do that: I'm Lantern's local assistant, and I only work with this project's memory.\n\nI can:\n\n${CAPABILITIES}`;
}
