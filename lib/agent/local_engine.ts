/**
 * The `local` engine: understands everyday phrasings with patterns, plans
 * with the real tools, and words its answers from what the tools returned.
 * It needs no network and no key.
 *
 * What it understands (after a greeting or "please", "can you", "could
 * you"… are set aside):
 *
 * - remember: "Remember (that) X", "Note (that) X", "Note to self: X",
 *   "Don't forget (that) X", "Keep in mind X", "Save X"…
 * - forget: "Forget (that / about) X", "Delete the memory about X"…
 * - list: "List memories", "Show me your notes", "What do you remember?",
 *   "What do you know?", "What's in your memory?"…
 * - summarize: "Summarize (the project)", "Give me a summary", "Recap",
 *   "Catch me up", "Where are we?"…
 * - recall: "What do you know about X", "Tell me about X", "Remind me when
 *   X", "Do you remember when X?", "What is / What's / When is / Who is X",
 *   "What did I tell you about X", yes/no questions ("Is the launch on
 *   May 3?"): answered from memories by word overlap.
 * - greetings, thanks and "help" / "what can you do?".
 *
 * Anything else gets an honest answer that says what it can do.
 *
 * @module
 */

import type { ActionResult, Memory, PlanAction, StepName } from "../protocol.ts";
import type { Analysis, Engine, EngineContext, EngineNote, EngineToken, Outcome } from "./engine.ts";
import { sleep } from "./sleep.ts";
import { MAX_MEMORY_CHARS, MAX_QUERY_CHARS } from "./tools.ts";
import { keywords } from "./words.ts";

/** Pacing for the local engine, so a person can watch the steps go by. */
export interface LocalEngineOptions {
  /** Pause as each step starts, in ms (0 for none). */
  paceMs?: number;
  /** Pause between answer tokens, in ms (0 for none). */
  tokenMs?: number;
}

/** What the local engine understood a message to ask. */
export interface Intent {
  name:
    | "remember"
    | "forget"
    | "list"
    | "recall"
    | "summarize"
    | "greeting"
    | "thanks"
    | "help"
    | "other";
  /**
   * What it is about, in the user's words: the fact to remember, the words
   * to look up or forget. Empty when the message did not say (`Remember`).
   */
  subject: string;
}

const GREETING_WORDS = String
  .raw`(?:hi|hello|hey|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|evening|day))`;
/** A message that is only a greeting. */
const GREETING_ONLY = new RegExp(
  String
    .raw`^(?:${GREETING_WORDS}(?:\s+(?:there|lantern|everyone|all|again|friend))?|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going|what'?s\s+up|sup)[\s!.,?]*$`,
  "i",
);
/** "Can you …?": a request phrased as a question, so its "?" is not part of the fact. */
const ASKING_OPENER = /^(?:can|could|would|will)\s+you\s+(?:please\s+)?/i;
/** Openers set aside before the message is matched: "Hey, ", "Please ", "Can you "… */
const OPENERS = [
  new RegExp(String.raw`^${GREETING_WORDS}(?:\s+(?:there|lantern))?\b[\s,!.:;-]*`, "i"),
  /^(?:ok(?:ay)?|so|well|alright|now|also|and|lantern)\b[\s,!.:;-]+/i,
  /^(?:please|pls|kindly)\b[\s,:]*/i,
  ASKING_OPENER,
  /^i(?:\s+(?:want|need|would\s+like)|'d\s+like)\s+you\s+to\s+/i,
];
const ASKING = OPENERS.indexOf(ASKING_OPENER);
/**
 * Closers set aside: ", please", " thanks". Every pattern anchored at the end
 * here starts with a lookbehind, so it is tried once per run of spaces, not
 * at each of its characters: a long message cannot make it quadratic.
 */
const CLOSER = /(?<![\s,])[\s,]+(?:please|thanks|thank\s+you|thx)[\s.!?]*$/i;

const THANKS =
  /^(?:thanks|thank\s+you|thx|ty|cheers|much\s+appreciated|great|perfect|awesome|nice|cool|got\s+it|ok(?:ay)?|good)(?:\s+(?:so\s+much|a\s+lot|very\s+much|lantern))?[\s!.]*$/i;

const HELP =
  /^(?:help(?:\s+me)?|\?+|what\s+(?:can|could|do)\s+you\s+do(?:\s+for\s+me)?|what\s+are\s+you|who\s+are\s+you|what\s+is\s+(?:this|lantern)|how\s+(?:do|does)\s+(?:you|this|it|lantern)\s+work|how\s+(?:do|can)\s+i\s+use\s+(?:you|this|it|lantern)|what\s+(?:are\s+)?(?:your|the)\s+(?:commands|options|capabilities|features)|commands|usage)[\s?!.]*$/i;

const REMEMBER =
  /^(?:remember|memori[sz]e|note(?:\s+to\s+self)?|make\s+(?:a\s+)?note(?:\s+of)?|take\s+(?:a\s+)?note(?:\s+of)?|jot\s+down|write\s+down|keep\s+in\s+mind|save|store|record|add\s+(?:a\s+)?(?:memory|note)|don'?t\s+forget|do\s+not\s+forget|never\s+forget)(?:\s+(?:that|the\s+fact\s+that))?(?:(?:\s*[:,\u2013\u2014-]\s*|\s+)(.*)|[\s.!]*)$/dis;

const FORGET =
  /^(?:forget|delete|remove|drop|erase|discard|unlearn)(?:\s+(?:the|my|your|that|this))?(?:\s+(?:memory|memories|note|notes|fact|facts|entry))?(?:\s+(?:that|about|of|on|saying|which\s+says|where|with))?(?:(?:\s*[:,]\s*|\s+)(.*)|[\s.!]*)$/dis;

/** "Everything": the local engine does not forget all at once from one sentence. */
const EVERYTHING =
  /^(?:everything|all|it\s+all|all\s+(?:of\s+)?(?:it|them|that|memories|notes|you\s+know|you\s+remember)|memory|memories|what\s+you\s+know)$/i;

const LIST =
  /^(?:(?:list|show|display|give|read|tell)(?:\s+(?:me|us))?(?:\s+(?:all|every|each))?(?:\s+(?:of\s+)?(?:my|your|the|our|this\s+project'?s|the\s+project'?s|saved|stored))*\s+(?:memories|memory|notes|facts|things\s+you\s+(?:remember|know)|what\s+you\s+(?:remember|know|have)|everything(?:\s+you\s+(?:remember|know|have))?)|(?:(?:my|your|all|the|project)\s+)?memories|what(?:'s|\s+is|\s+do\s+you\s+have)?\s+in\s+(?:your\s+|the\s+|my\s+)?memory|what\s+(?:do|did)\s+you\s+(?:remember|know|have)|what\s+have\s+you\s+(?:got|remembered|noted|saved|stored|learned|learnt)|what\s+do\s+you\s+have\s+(?:saved|stored|noted))(?:\s+(?:so\s+far|now|here|for\s+(?:me|this\s+project|the\s+project)|about\s+(?:this|the|my)\s+project|in\s+(?:this|the)\s+project))?[\s?!.]*$/i;

const SUMMARIZE = [
  /^(?:summari[sz]e|sum\s+up|recap|give\s+(?:me|us)\s+(?:a|an|the)\s+(?:quick\s+|short\s+|brief\s+)?(?:summary|overview|recap|rundown)|catch\s+me\s+up|bring\s+me\s+up\s+to\s+(?:speed|date)|where\s+(?:are\s+we|do\s+(?:we|things)\s+stand))\b/i,
  /^(?:(?:a|the|project'?s?|quick|short|brief)\s+)*(?:summary|overview|recap|rundown|status)(?:\s+(?:of|for)\s+(?:the|this|my|our)\s+project)?[\s?!.]*$/i,
  /^what(?:'s|\s+is)\s+the\s+(?:project'?s?\s+)?(?:summary|overview|status)(?:\s+(?:of|for)\s+(?:the|this|my|our)\s+project)?[\s?!.]*$/i,
  /^how(?:'s|\s+is)\s+(?:the|this|my|our)\s+project(?:\s+going)?[\s?!.]*$/i,
];

/** Ways of asking about something, the subject in group 1. */
const RECALL = [
  /^(?:what|how\s+much|how\s+many)\s+(?:do|did)\s+(?:you|i)\s+(?:know|remember|recall|tell\s+you|say|write|note)\s+(?:about|of|on|regarding)\s+(.+)$/dis,
  /^what\s+(?:have\s+i\s+told\s+you|did\s+you\s+note|have\s+you\s+(?:got|saved|noted))\s+(?:about|of|on|regarding)\s+(.+)$/dis,
  /^(?:tell|remind)\s+(?:me|us)\s+(?:about|of|regarding|what\s+you\s+(?:know|remember)\s+(?:about|of))\s+(.+)$/dis,
  /^(?:tell|remind)\s+(?:me|us)\s+((?:what|when|who|where|which|how|whether|if)\b.+)$/dis,
  /^(?:do|did)\s+(?:you|i)\s+(?:know|remember|recall|have\s+anything)(?:\s+(?:about|of|on|regarding))?\s+(.+)$/dis,
  /^(?:anything|something)\s+(?:about|on|regarding)\s+(.+)$/dis,
  /^(?:(?:a|the)\s+)?(?:summary|overview|recap|rundown)\s+(?:of|on|about|for)\s+(.+)$/dis,
  /^(?:what|when|who|where|which|whose|why|how(?:\s+much|\s+many|\s+long|\s+often)?)(?:'s|'re|\s+(?:is|are|was|were|does|did|do|will|would|should|can|could|has|have|about))?\s+(.+)$/dis,
  /^(?:is|are|was|were|does|did|has|have|will|should|can)\s+(.+\?)\s*$/dis,
];

/** Words that only say what kind of answer a question wants. */
const ASKED = String.raw`(?:time|day|date|year|month|hour|place|name|number)`;

/** Turns "when the launch is", "who Bob is", "time is the standup" into "the launch", "Bob", "the standup time". */
function cleanQuestion(subject: string): string {
  let s = subject.trim().replace(/(?<![\s?.!])[\s?.!]+$/, "");
  s = s.replace(/^(?:about|of|on|regarding)\s+/i, "");
  s = s.replace(/^(?:what|when|who|where|which|whether|if|how)\s+/i, "");
  const asked = new RegExp(String.raw`^${ASKED}\s+(?:is|are|was|were|does|did|do|will)\s+(.+)$`, "is").exec(
    s,
  );
  if (asked) s = `${asked[1]} ${s.split(/\s+/)[0]}`;
  s = s.replace(/(?<!\s)\s+(?:is|are|was|were|'s|will\s+be|is\s+due|is\s+set|happens?|takes\s+place)$/i, "");
  return s.trim();
}

/** Normalizes typographic apostrophes and quotes, which phones type, one character for one. */
function plainQuotes(text: string): string {
  return text.replace(/[\u2018\u2019\u02BC]/g, "'").replace(/[\u201C\u201D]/g, '"');
}

/**
 * Classifies a message into one of the local engine's intents.
 *
 * @example
 * ```ts
 * import { classify } from "./local_engine.ts";
 * console.log(classify("Please remember: the demo is on Friday.")); // { name: "remember", subject: "the demo is on Friday" }
 * console.log(classify("What's the launch date?")); // { name: "recall", subject: "the launch date" }
 * ```
 */
export function classify(message: string): Intent {
  const original = message.normalize("NFC").trim();
  // Same length as `original`, so a match's indices point into both.
  const text = plainQuotes(original);
  if (text === "") return { name: "other", subject: "" };
  if (GREETING_ONLY.test(text)) return { name: "greeting", subject: "" };
  if (THANKS.test(text)) return { name: "thanks", subject: "" };

  let start = 0;
  let asked = false;
  for (let peeled = true; peeled;) {
    peeled = false;
    for (const [i, opener] of OPENERS.entries()) {
      const match = opener.exec(text.slice(start));
      if (match && match[0].length > 0 && match[0].length < text.length - start) {
        start += match[0].length;
        peeled = true;
        if (i === ASKING) asked = true;
      }
    }
  }
  let end = text.length;
  const closer = CLOSER.exec(text.slice(start, end));
  if (closer && closer.index > 0) end = start + closer.index;
  const rest = text.slice(start, end);
  /** The user's own text (typographic quotes kept) of a match's group 1. */
  const own = (match: RegExpExecArray): string => {
    const span = match.indices?.[1];
    return span ? original.slice(start + span[0], start + span[1]).trim() : "";
  };

  if (HELP.test(rest)) return { name: "help", subject: "" };
  if (THANKS.test(rest)) return { name: "thanks", subject: "" };

  const remember = REMEMBER.exec(rest);
  if (remember) {
    const subject = own(remember);
    // "Remember when the launch is?" asks; it does not tell.
    if (/^(?:what|when|who|where|which|whether|if|how)\b/i.test(subject) && rest.endsWith("?")) {
      return { name: "recall", subject: cleanQuestion(subject) };
    }
    return { name: "remember", subject: cleanFact(asked ? subject.replace(/(?<!\?)\?+$/, "") : subject) };
  }
  const forget = FORGET.exec(rest);
  if (forget) {
    const subject = own(forget).replace(/(?<![\s.!?])[\s.!?]+$/, "");
    return { name: "forget", subject: /^(?:it|that|this|something)?$/i.test(subject) ? "" : subject };
  }
  if (LIST.test(rest)) return { name: "list", subject: "" };
  if (SUMMARIZE.some((p) => p.test(rest))) return { name: "summarize", subject: "" };
  for (const pattern of RECALL) {
    const match = pattern.exec(rest);
    if (match) {
      const subject = cleanQuestion(own(match));
      return { name: "recall", subject: keywords(subject).length > 0 ? subject : "" };
    }
  }
  return { name: "other", subject: original };
}

/** The fact to remember, without a trailing full stop or a stray "that". */
function cleanFact(subject: string): string {
  const s = subject.trim().replace(/(?<![\s.!])[\s.!]+$/, "");
  return /^(?:that|this|it|something|this\s+down)?$/i.test(s) ? "" : s;
}

const CAPABILITIES = [
  '- **Remember** a fact: "Remember that the launch is on May 3", "Note that Ana leads design".',
  '- **Answer** from what I remember: "When is the launch?", "Who leads design?", "Tell me about the launch".',
  '- **Forget** a fact: "Forget the launch date".',
  '- **List** everything: "What do you remember?"',
  '- **Summarize** the project: "Summarize the project".',
].join("\n");

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Capitalizes a fact's first letter, unless its first word is like "iPhone" or "eBay". */
function capitalize(text: string): string {
  const first = text.split(/\s/, 1)[0] ?? "";
  if (/\p{Lu}/u.test(first.slice(1))) return text;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Lower-cases a sentence's first word when it is a common one ("The", "Our"), not a name. */
function uncapitalize(text: string): string {
  return text.replace(
    /^(?:The|A|An|This|That|These|Those|Our|My|Your|Its|Their|We|It|There)\b/,
    (word) => word.toLowerCase(),
  );
}

/** The user's words on one line, cut with an ellipsis past `max` characters. */
function shorten(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max - 1).trimEnd() + "…" : oneLine;
}

/** A short quote of the user's words for an answer. */
function quote(text: string, max = 80): string {
  return `"${shorten(text, max)}"`;
}

/** A fact, bold when it fits on a line, quoted as a block when it does not. */
function fact(text: string): string {
  return text.includes("\n") ? `\n\n${text.split("\n").map((l) => `> ${l}`).join("\n")}` : ` **${text}**`;
}

function bullets(memories: Memory[]): string {
  return memories.map((m) => `- ${m.text.replace(/\s+/g, " ")}`).join("\n");
}

/** Cuts a text to at most `max` characters, at a word boundary when it can. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return (space > max / 2 ? cut.slice(0, space) : cut).trim();
}

/**
 * The built-in engine. See the module docs.
 *
 * @example
 * ```ts
 * import { LocalEngine } from "./local_engine.ts";
 * const engine = new LocalEngine({ paceMs: 0, tokenMs: 0 });
 * console.log(engine.name); // local
 * ```
 */
export class LocalEngine implements Engine {
  readonly name = "local";
  readonly model = "local";
  readonly replansInvalid = false;
  #paceMs: number;
  #tokenMs: number;

  /** An engine with optional pacing. */
  constructor(options: LocalEngineOptions = {}) {
    this.#paceMs = options.paceMs ?? 0;
    this.#tokenMs = options.tokenMs ?? 0;
  }

  /** Pauses `paceMs` at every step, so a person can watch them go by. */
  pace(_step: StepName, signal: AbortSignal): Promise<void> {
    return sleep(this.#paceMs, signal);
  }

  // The interface's steps are generators so engines can report as they go;
  // the local engine has nothing to report here.
  // deno-lint-ignore require-yield
  async *analyze(ctx: EngineContext): AsyncGenerator<EngineNote, Analysis, void> {
    const intent = classify(ctx.message);
    const about = quote(intent.subject);
    const summaries: Record<Intent["name"], string> = {
      remember: intent.subject
        ? `You want me to remember ${about}.`
        : "You want me to remember something, but did not say what.",
      forget: intent.subject
        ? `You want me to forget ${about}.`
        : "You want me to forget something, but did not say what.",
      list: "You want to see everything I remember.",
      recall: intent.subject ? `You are asking about ${about}.` : "You are asking a question I cannot place.",
      summarize: "You want a summary of the project.",
      greeting: "You are saying hello.",
      thanks: "You are saying thanks.",
      help: "You want to know what I can do.",
      other: "This is not something I have a tool for.",
    };
    return {
      intent: intent.name,
      summary: summaries[intent.name],
      metadata: { subject: intent.subject },
    };
  }

  // deno-lint-ignore require-yield
  async *plan(_ctx: EngineContext, analysis: Analysis): AsyncGenerator<EngineNote, PlanAction[], void> {
    const subject = String(analysis.metadata?.subject ?? "");
    switch (analysis.intent) {
      case "remember":
        // Too long a fact is refused in the answer, not by a failed validation.
        if (!subject || subject.length > MAX_MEMORY_CHARS) return [];
        return [{ tool: "save_memory", args: { text: capitalize(subject) } }];
      case "forget":
        if (!subject || EVERYTHING.test(subject)) return [];
        return [{ tool: "delete_memory", args: { query: clip(subject, MAX_QUERY_CHARS) } }];
      case "list":
        return [{ tool: "list_memories", args: {} }];
      case "recall":
        if (!subject) return [];
        return [{ tool: "search_memories", args: { query: clip(subject, MAX_QUERY_CHARS) } }];
      case "summarize":
        return [{ tool: "summarize_project", args: {} }];
      default:
        return [];
    }
  }

  async *answer(
    ctx: EngineContext,
    analysis: Analysis,
    outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    const text = compose(analysis, outcome, ctx);
    // Words with their trailing space, so the text re-joins exactly.
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      if (this.#tokenMs > 0) await sleep(this.#tokenMs, ctx.signal);
      yield { kind: "token", delta: piece };
    }
  }
}

function actionOf(actions: ActionResult[], tool: string): ActionResult | undefined {
  return actions.find((a) => a.tool === tool);
}

const FAILED = "Something went wrong while I worked on that, so nothing changed. Please try again.";

/** Words the local engine's answer from the outcome. */
function compose(analysis: Analysis, outcome: Outcome, ctx: EngineContext): string {
  const subject = String(analysis.metadata?.subject ?? "");
  const none = ctx.memories.length === 0;
  switch (analysis.intent) {
    case "remember": {
      if (!subject) {
        return 'What should I remember? Tell me the fact, for example: "Remember that the launch is on May 3".';
      }
      if (subject.length > MAX_MEMORY_CHARS) {
        return `That is too long to remember as one fact (${
          subject.length.toLocaleString("en")
        } characters; ` +
          `the limit is ${MAX_MEMORY_CHARS.toLocaleString("en")}). Please split it into shorter facts.`;
      }
      const action = actionOf(outcome.actions, "save_memory");
      if (!action?.ok) return FAILED;
      const saved = outcome.added[0];
      if (saved) return `Got it. I'll remember:${fact(saved.text)}`;
      return `I already remember that:${fact((action.output as Memory).text)}`;
    }
    case "forget": {
      if (!subject) {
        return 'What should I forget? Tell me which fact, for example: "Forget the launch date".';
      }
      if (EVERYTHING.test(subject)) {
        return "I only forget what you name, so nothing was deleted. Tell me which fact to forget, " +
          'for example "Forget the launch date", or use the Forget buttons next to the memories.';
      }
      if (!actionOf(outcome.actions, "delete_memory")?.ok) return FAILED;
      if (outcome.removed.length > 0) {
        return `Done. I forgot ${
          outcome.removed.length === 1 ? "this" : `these ${outcome.removed.length}`
        }:\n\n${bullets(outcome.removed)}`;
      }
      return none
        ? "I don't remember anything in this project yet, so there was nothing to forget."
        : `I don't have anything about ${quote(subject)} to forget, so nothing changed.`;
    }
    case "list": {
      const action = actionOf(outcome.actions, "list_memories");
      if (!action?.ok) return FAILED;
      const all = action.output as Memory[];
      return all.length === 0
        ? 'I don\'t remember anything in this project yet. Tell me something with "Remember that …".'
        : `Here is what I remember (${plural(all.length, "memory", "memories")}):\n\n${bullets(all)}`;
    }
    case "recall": {
      if (!subject) {
        return 'What would you like to know? Ask about something you told me, for example: "When is the launch?"';
      }
      const action = actionOf(outcome.actions, "search_memories");
      if (!action?.ok) return FAILED;
      const found = action.output as Memory[];
      if (found.length === 0) {
        return none
          ? `I don't know anything about ${quote(subject)}: nothing has been saved in this project yet. ` +
            'Tell me with "Remember that …" and I\'ll know next time.'
          : `I don't know anything about ${quote(subject)}: ${
            ctx.memories.length === 1
              ? "my one memory doesn't mention it"
              : `none of my ${ctx.memories.length} memories mention it`
          }. Tell me with "Remember that …" and I'll know next time.`;
      }
      return found.length === 1
        ? `From what you told me:${fact(found[0]!.text)}`
        : `Here is what I know about ${quote(subject)}:\n\n${bullets(found)}`;
    }
    case "summarize": {
      const action = actionOf(outcome.actions, "summarize_project");
      if (!action?.ok) return FAILED;
      const data = action.output as SummaryOutput;
      const facts = data.memories.length === 0
        ? 'I don\'t remember anything in this project yet. Tell me something with "Remember that …".'
        : `**What I remember** (${plural(data.memories.length, "memory", "memories")}):\n\n${
          bullets(data.memories)
        }`;
      const earlier = data.messageCount - 1;
      const talk = earlier <= 0
        ? "**Conversation:** this is the first message."
        : `**Conversation:** ${plural(data.messageCount, "message", "messages")} so far, ${
          data.userMessages === 1 ? "1 from you" : `${data.userMessages} from you`
        }.`;
      const recent = data.recent.length === 0
        ? ""
        : `\n\n**Recently you asked:**\n\n${data.recent.map((t) => `- ${shorten(t)}`).join("\n")}`;
      return `## ${ctx.project.name.replace(/\s+/g, " ")}\n\n${facts}\n\n${talk}${recent}`;
    }
    case "greeting":
      return `Hello! I'm Lantern's local assistant: I keep this project's memory and answer from it. I can:\n\n${CAPABILITIES}`;
    case "thanks":
      return "You're welcome! Tell me anything else worth remembering, or ask me what I know.";
    case "help":
      return `I'm Lantern's local assistant: I keep this project's memory and answer from it. I can:\n\n${CAPABILITIES}`;
    default: {
      const text = ctx.message.trim();
      // A sentence that states something may be a fact the user wants kept.
      const statement = !/[?]$/.test(text) && !text.includes("\n") && text.length <= 300 &&
        /\s(?:is|are|was|were|will|has|have|had)\s/i.test(text);
      const tip = statement
        ? `\n\nIf you want me to keep that, say: "Remember that ${
          uncapitalize(text.replace(/(?<![.!])[.!]+$/, ""))
        }".`
        : "";
      return `I can't do that: I'm Lantern's local assistant, and I only work with this project's memory.${tip}\n\nI can:\n\n${CAPABILITIES}`;
    }
  }
}

/** The output of the `summarize_project` tool. */
interface SummaryOutput {
  memories: Memory[];
  messageCount: number;
  userMessages: number;
  recent: string[];
}
