/**
 * Ties what the reader found to the project's memories: which current
 * memories a new fact replaces, what "remember those" refers to. Reading a
 * memory's text is cached, so a project's memories are parsed once each.
 *
 * @module
 */

import type { Memory, Message } from "../../protocol.ts";
import { type Fact, readFact } from "./facts.ts";
import { exclusive } from "./values.ts";
import { read, type Request } from "./reader.ts";

const CACHE_LIMIT = 2000;
const cache = new Map<string, Fact | null>();

/**
 * The fact a memory states (its stored subject wins over the parse), or null.
 *
 * @example
 * ```ts
 * import { factOf } from "./resolve.ts";
 * const memory = { id: "m1", text: "The launch is on May 3", source: "user" as const, createdAt: "" };
 * console.log(factOf(memory)?.key); // launch
 * ```
 */
export function factOf(memory: Memory): Fact | null {
  const id = `${memory.id}\u0000${memory.text}`;
  let fact = cache.get(id);
  if (fact === undefined) {
    fact = readFact(memory.text);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(id, fact);
  }
  return fact && memory.subject ? { ...fact, key: memory.subject } : fact;
}

/**
 * The current memories a new fact replaces: the same subject and kind of
 * value (a date for a date, a place for a place), or, for what someone
 * does, only when the fact says it changed ("Ana now leads marketing").
 *
 * @example
 * ```ts
 * import { replaced } from "./resolve.ts";
 * import { readFact } from "./facts.ts";
 * const old = { id: "m1", text: "The launch is on May 3", source: "user" as const, createdAt: "" };
 * console.log(replaced(readFact("The launch moved to May 10")!, [old]).map((m) => m.id)); // ["m1"]
 * ```
 */
export function replaced(fact: Fact, memories: readonly Memory[]): Memory[] {
  return memories.filter((m) => {
    const old = factOf(m);
    if (!old || !fact.key || old.key !== fact.key || old.text.toLowerCase() === fact.text.toLowerCase()) {
      return false;
    }
    if (old.kind === fact.kind) return exclusive(fact.kind) || fact.changed;
    // "The office moved to Lisbon" after "The office is in Berlin": a change names its new value.
    return fact.changed && exclusive(fact.kind) && exclusive(old.kind) && old.kind !== "what" &&
      fact.kind === "what";
  });
}

/**
 * What "remember those" (or "remember that") refers to: the facts of the
 * user's previous message, when it stated some.
 *
 * @example
 * ```ts
 * import { previousFacts } from "./resolve.ts";
 * const history = [{ id: "1", role: "user" as const, content: "Ana leads design. Bob is the PM.", runId: null, createdAt: "" }];
 * console.log(previousFacts(history).map((f) => f.text)); // ["Ana leads design", "Bob is the PM"]
 * ```
 */
export function previousFacts(history: readonly Message[]): Fact[] {
  const last = history.findLast((m) => m.role === "user");
  if (!last) return [];
  const requests: Request[] = read(last.content);
  return requests.flatMap((r) => r.intent === "facts" || r.intent === "other" ? r.facts : []);
}
