/**
 * The built-in engine: reads the message with the reader, plans with the
 * real tools, explains its plan, and words the answer from what the tools
 * returned. No network, no key, no model.
 *
 * @module
 */

import type { PlanAction, StepName } from "../../protocol.ts";
import type { Analysis, Engine, EngineContext, EngineNote, EngineToken, Outcome } from "../engine.ts";
import { sleep } from "../sleep.ts";
import { MAX_QUERY_CHARS } from "../tools.ts";
import { DEFAULT_BOUNDS } from "../../store/bounds.ts";
import type { Fact } from "./facts.ts";
import { forgetsEverything } from "./lexicon.ts";
import { reasons } from "./reasons.ts";
import type { Request } from "./requests.ts";
import { capitalize, clip, quote, uncapitalize } from "./wording.ts";

/** Pacing for the local engine, so a person can watch the steps go by. */
export interface LocalEngineOptions {
  /** Pause as each step starts, in ms (0 for none). */
  paceMs?: number;
  /** Pause between answer tokens, in ms (0 for none). */
  tokenMs?: number;
}

/** One fact to save, with the memories it replaces. */
export interface PlannedFact {
  text: string;
  key?: string;
  kind?: string;
  replaces: { id: string; text: string }[];
}

/** A request as the engine plans it: what the reader found, and the facts to save. */
export interface PlannedRequest {
  intent: Request["intent"];
  subject: string;
  cue: string;
  asks?: string;
  quoted?: boolean;
  claim?: { text: string; subject: string; key: string; value: string; bare: string; kind: string };
  facts: PlannedFact[];
}

const SUMMARIES: Record<Request["intent"], (r: PlannedRequest) => string> = {
  remember: (r) =>
    r.facts.length > 1
      ? `You want me to remember ${r.facts.length} facts.`
      : r.subject
      ? `You want me to remember ${quote(r.subject)}.`
      : "You want me to remember something, but did not say what.",
  update: (r) => `You are telling me a change: ${quote(r.subject)}.`,
  save_offered: () => "You want me to remember what you said before, but it stated no fact.",
  facts: (r) =>
    `You told me ${r.facts.length === 1 ? "a fact" : `${r.facts.length} facts`}; I can offer to keep them.`,
  forget: (r) =>
    r.subject
      ? `You want me to forget ${quote(r.subject)}.`
      : "You want me to forget something, but did not say what.",
  list: () => "You want to see everything I remember.",
  count: () => "You want to know how much I remember.",
  recall: (r) =>
    r.subject ? `You are asking about ${quote(r.subject)}.` : "You are asking a question I cannot place.",
  check: (r) => `You are asking whether ${r.claim ? uncapitalize(r.claim.text) : quote(r.subject)}.`,
  summarize: () => "You want a summary of the project.",
  greeting: () => "You are saying hello.",
  thanks: () => "You are saying thanks.",
  help: () => "You want to know what I can do.",
  other: () => "This is not something I have a tool for.",
};

type Mind = typeof import("./mind.ts");
let mind: Promise<Mind> | null = null;

/** Loads the language modules once, on first use (see mind.ts). */
function loadMind(): Promise<Mind> {
  return mind ??= import("./mind.ts");
}

function planned(r: Request, ctx: EngineContext, { previousFacts, replaced }: Mind): PlannedRequest {
  let intent = r.intent;
  let facts: Fact[] = r.facts;
  let texts: string[] = r.parts ?? (r.subject ? [r.subject] : []);
  if (intent === "save_offered") {
    facts = previousFacts(ctx.history);
    texts = facts.map((f) => f.text);
    if (facts.length > 0) intent = "remember";
  }
  const saving = intent === "remember" || intent === "update";
  const planFacts: PlannedFact[] = !saving
    ? facts.map((f) => ({ text: f.text, replaces: [] }))
    : texts.map((text) => {
      const fact = facts.find((f) => text.startsWith(f.text) || f.text.startsWith(text)) ?? null;
      const old = fact ? replaced(fact, ctx.memories) : [];
      return {
        text,
        ...(fact ? { key: fact.key, kind: fact.kind } : {}),
        replaces: old.map((m) => ({ id: m.id, text: m.text })),
      };
    });
  const c = r.claim;
  return {
    intent,
    subject: intent === "remember" && r.intent === "save_offered" ? texts.join("\n") : r.subject,
    cue: r.intent === "save_offered" && intent === "remember" ? `${r.cue} → your previous message` : r.cue,
    ...(r.asks ? { asks: r.asks } : {}),
    ...(r.quoted ? { quoted: true } : {}),
    ...(c
      ? {
        claim: { text: c.text, subject: c.subject, key: c.key, value: c.value, bare: c.bare, kind: c.kind },
      }
      : {}),
    facts: planFacts,
  };
}

/** The tool actions one request needs (none when the answer alone will do). */
function actionsFor(r: PlannedRequest, maxMemoryChars: number): PlanAction[] {
  switch (r.intent) {
    case "remember":
    case "update":
      // Too long a fact is refused in the answer, not by a failed validation.
      if (r.facts.some((f) => f.text.length > maxMemoryChars)) return [];
      return r.facts.map((f) => ({
        tool: "save_memory",
        args: {
          text: capitalize(f.text),
          ...(f.key ? { subject: f.key } : {}),
          ...(f.replaces.length > 0 ? { replaces: f.replaces.map((m) => m.id) } : {}),
        },
      }));
    case "forget":
      if (!r.subject || forgetsEverything(r.subject)) return [];
      return [{ tool: "delete_memory", args: { query: clip(r.subject, MAX_QUERY_CHARS) } }];
    case "list":
    case "count":
      return [{ tool: "list_memories", args: {} }];
    case "recall":
      return r.subject
        ? [{ tool: "search_memories", args: { query: clip(r.subject, MAX_QUERY_CHARS) } }]
        : [];
    case "check": {
      const query = r.claim?.subject || r.subject;
      return query ? [{ tool: "search_memories", args: { query: clip(query, MAX_QUERY_CHARS) } }] : [];
    }
    case "summarize":
      return [{ tool: "summarize_project", args: {} }];
    default:
      return [];
  }
}

/** One line of "why" for a request's actions: the parse that chose them. */
function why(r: PlannedRequest, actions: PlanAction[]): string {
  const tools = actions.length === 0 ? "no tool" : actions.map((a) => a.tool).join(", ");
  const facts = r.facts.map((f) =>
    `${f.key ? ` [subject "${f.key}", ${f.kind}]` : ""}${
      f.replaces.length ? ` replacing ${f.replaces.map((m) => quote(m.text, 60)).join(", ")}` : ""
    }`
  ).filter(Boolean).join(";");
  const claim = r.claim ? ` [claim: "${r.claim.key}" ${r.claim.value}]` : "";
  return `${r.intent} (read from: ${r.cue})${r.asks ? ` asking ${r.asks}` : ""}${facts}${claim} → ${tools}`;
}

/**
 * The built-in engine. See the module docs.
 *
 * @example
 * ```ts
 * import { LocalEngine } from "./engine.ts";
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
    // Start loading the reader now, while the server starts, rather than during a run, where its
    // one-off cost (compromise builds its lexicon) would hold up that run's events and cancels.
    // analyze waits for it, and reports a failure to load.
    loadMind().catch(() => {});
  }

  /** Pauses `paceMs` at every step, so a person can watch them go by. */
  pace(_step: StepName, signal: AbortSignal): Promise<void> {
    return sleep(this.#paceMs, signal);
  }

  // The interface's steps are generators so engines can report as they go.
  // deno-lint-ignore require-yield
  async *analyze(ctx: EngineContext): AsyncGenerator<EngineNote, Analysis, void> {
    const loaded = await loadMind();
    const requests = loaded.read(ctx.message).map((r) => planned(r, ctx, loaded));
    const first = requests[0]!;
    return {
      intent: requests.map((r) => r.intent).join("+"),
      summary: requests.map((r) => SUMMARIES[r.intent](r)).join(" "),
      metadata: { subject: first.subject, requests },
    };
  }

  async *plan(ctx: EngineContext, analysis: Analysis): AsyncGenerator<EngineNote, PlanAction[], void> {
    const requests = requestsOf(analysis);
    const plan: PlanAction[] = [];
    const lines: string[] = [];
    for (const r of requests) {
      const actions = actionsFor(r, ctx.maxMemoryChars ?? DEFAULT_BOUNDS.maxMemoryChars);
      const whys = reasons(r, actions);
      plan.push(...actions.map((a, i) => ({ ...a, why: whys[i]! })));
      lines.push(why(r, actions));
    }
    yield {
      kind: "note",
      message: plan.length === 0 ? "Why no tool is needed" : "Why this plan",
      details: lines.map((line, i) => requests.length > 1 ? `${i + 1}. ${line}` : line).join("\n"),
      metadata: { why: lines },
    };
    return plan;
  }

  async *answer(
    ctx: EngineContext,
    analysis: Analysis,
    outcome: Outcome,
  ): AsyncGenerator<EngineNote | EngineToken, void, void> {
    const { compose } = await loadMind();
    const requests = requestsOf(analysis);
    let next = 0;
    const parts = requests.map((r) => {
      const count = actionsFor(r, ctx.maxMemoryChars ?? DEFAULT_BOUNDS.maxMemoryChars).length;
      const actions = outcome.actions.slice(next, next + count);
      next += count;
      return compose(r, actions, ctx);
    });
    const text = parts.join("\n\n");
    // Words with their trailing space, so the text re-joins exactly.
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      if (this.#tokenMs > 0) await sleep(this.#tokenMs, ctx.signal);
      yield { kind: "token", delta: piece };
    }
  }
}

function requestsOf(analysis: Analysis): PlannedRequest[] {
  return (analysis.metadata?.requests ?? []) as PlannedRequest[];
}
