/**
 * The `local` engine: understands a handful of phrasings with patterns, plans
 * with the real tools, and words its answers from what the tools returned.
 * It needs no network and no key.
 *
 * @module
 */

import type { ActionResult, Memory, PlanAction, StepName } from "../protocol.ts";
import type { Analysis, Engine, EngineContext, EngineNote, EngineToken, Outcome } from "./engine.ts";
import { sleep } from "./sleep.ts";

/** Pacing for the local engine, so a person can watch the steps go by. */
export interface LocalEngineOptions {
  /** Pause as each step starts, in ms (0 for none). */
  paceMs?: number;
  /** Pause between answer tokens, in ms (0 for none). */
  tokenMs?: number;
}

interface Intent {
  name: "remember" | "forget" | "list" | "recall" | "summarize" | "help" | "other";
  subject: string;
}

const PATTERNS: [Intent["name"], RegExp][] = [
  [
    "remember",
    /^(?:please\s+)?(?:remember|note|don'?t forget|keep in mind|save|store|record)(?:\s+(?:that|this|the fact that))?[:,]?\s+(.+)$/is,
  ],
  [
    "forget",
    /^(?:please\s+)?(?:forget|delete|remove|drop|erase)(?:\s+(?:the\s+)?(?:memory|note|fact))?(?:\s+(?:that|about|of))?[:,]?\s+(.+)$/is,
  ],
  [
    "list",
    /^(?:please\s+)?(?:list|show)(?:\s+(?:me|all|my|the|your))*\s+(?:memories|notes|facts)\b|^what\s+do\s+you\s+(?:remember|know)\s*\??$|^what\s+have\s+you\s+(?:remembered|noted)/i,
  ],
  ["summarize", /\b(?:summari[sz]e|summary|recap|overview)\b/i],
  [
    "recall",
    /^(?:what\s+do\s+you\s+(?:know|remember)\s+(?:about|of)|tell\s+me\s+(?:about|what\s+you\s+know\s+about)|do\s+you\s+(?:know|remember)(?:\s+(?:about|if|when|who|what|where))?|(?:what|when|who|where|which|how\s+much|how\s+many)(?:'s|\s+is|\s+are|\s+was|\s+were|\s+does|\s+did|\s+do)?)\s+(.+?)\??$/is,
  ],
  ["help", /^(?:hi|hello|hey|help|what can you do|who are you)\b/i],
];

/** Classifies a message into one of the local engine's intents. */
export function classify(message: string): Intent {
  const text = message.trim();
  for (const [name, pattern] of PATTERNS) {
    const match = pattern.exec(text);
    if (match) {
      const subject = (match[1] ?? "").trim().replace(/[.!?]+$/, "");
      return { name, subject };
    }
  }
  return { name: "other", subject: text };
}

const CAPABILITIES = [
  '- "Remember that …" or "Note that …" saves a fact.',
  '- "What do you know about …?", "When is …?", "Who is …?" looks it up.',
  '- "Forget …" removes a fact.',
  '- "List memories" or "What do you remember?" shows them all.',
  '- "Summarize the project" gives an overview.',
].join("\n");

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function bullets(memories: Memory[]): string {
  return memories.map((m) => `- ${m.text}`).join("\n");
}

/**
 * The built-in engine. See the module docs.
 *
 * @example
 * ```ts
 * import { classify } from "./local_engine.ts";
 * console.log(classify("Remember that the demo is on Friday").subject); // the demo is on Friday
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
    const summaries: Record<Intent["name"], string> = {
      remember: `You want me to remember "${intent.subject}".`,
      forget: `You want me to forget "${intent.subject}".`,
      list: "You want to see everything I remember.",
      recall: `You are asking about "${intent.subject}".`,
      summarize: "You want a summary of the project.",
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
        return [{ tool: "save_memory", args: { text: capitalize(subject) } }];
      case "forget":
        return [{ tool: "delete_memory", args: { query: subject } }];
      case "list":
        return [{ tool: "list_memories", args: {} }];
      case "recall":
        return [{ tool: "search_memories", args: { query: subject } }];
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

function firstOutput(actions: ActionResult[], tool: string): ActionResult | undefined {
  return actions.find((a) => a.tool === tool && a.ok);
}

/** Words the local engine's answer from the outcome. */
function compose(analysis: Analysis, outcome: Outcome, ctx: EngineContext): string {
  const subject = String(analysis.metadata?.subject ?? "");
  switch (analysis.intent) {
    case "remember": {
      const saved = outcome.added[0];
      return saved ? `Got it. I'll remember: **${saved.text}**` : "I could not save that. Please try again.";
    }
    case "forget":
      return outcome.removed.length > 0
        ? `Done. I forgot:\n\n${bullets(outcome.removed)}`
        : `I don't have anything about "${subject}" to forget.`;
    case "list": {
      const all = (firstOutput(outcome.actions, "list_memories")?.output ?? []) as Memory[];
      return all.length === 0
        ? 'I don\'t remember anything in this project yet. Tell me something with "Remember that …".'
        : `Here is what I remember (${plural(all.length, "memory", "memories")}):\n\n${bullets(all)}`;
    }
    case "recall": {
      const found = (firstOutput(outcome.actions, "search_memories")?.output ?? []) as Memory[];
      if (found.length === 0) {
        return `I don't know anything about "${subject}" yet. You can tell me with "Remember that …".`;
      }
      return found.length === 1
        ? `From what you told me: **${found[0]!.text}**`
        : `Here is what I know about "${subject}":\n\n${bullets(found)}`;
    }
    case "summarize": {
      const data = firstOutput(outcome.actions, "summarize_project")?.output as
        | { memories: Memory[]; messageCount: number; questions: number }
        | undefined;
      if (!data) return "I could not gather the project to summarize it.";
      const head = `## ${ctx.project.name}\n\n`;
      const facts = data.memories.length === 0
        ? "No memories yet."
        : `${plural(data.memories.length, "memory", "memories")}:\n\n${bullets(data.memories)}`;
      return `${head}${facts}\n\nThe conversation has ${plural(data.messageCount, "message", "messages")}, ${
        plural(data.questions, "of them yours", "of them yours")
      }.`;
    }
    case "help":
      return `Hello! I'm Lantern's local assistant. I keep this project's memory. I can:\n\n${CAPABILITIES}`;
    default:
      return `I can't help with that yet: the local engine only works with this project's memory. I can:\n\n${CAPABILITIES}`;
  }
}
