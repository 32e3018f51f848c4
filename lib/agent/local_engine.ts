/**
 * The `local` engine, importable from here. It lives in `local/`: the
 * engine class (`local/engine.ts`) and, loaded on its first message, the
 * reader (`local/reader.ts` with `parse`, `lexicon`, `clauses`, `questions`,
 * `openers`, `facts`, `values`), the link to the project's memories (`local/resolve.ts`) and the
 * wording (`local/answers.ts`, `local/wording.ts`).
 *
 * @example
 * ```ts
 * import { LocalEngine } from "./local_engine.ts";
 * console.log(new LocalEngine().name); // local
 * ```
 *
 * @module
 */

export { LocalEngine, type LocalEngineOptions } from "./local/engine.ts";
export type { IntentName, Request } from "./local/requests.ts";

/** What the local engine understood a message to ask (its first request). */
export interface Intent {
  name: import("./local/requests.ts").IntentName;
  subject: string;
}
