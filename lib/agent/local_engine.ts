/**
 * The `local` engine, importable from here: the reader
 * (`local/reader.ts`, `local/facts.ts`, `local/parse.ts`), the link to the
 * project's memories (`local/resolve.ts`), the wording (`local/answers.ts`,
 * `local/wording.ts`) and the engine class (`local/engine.ts`).
 *
 * @example
 * ```ts
 * import { classify, LocalEngine } from "./local_engine.ts";
 * console.log(new LocalEngine().name, classify("When is the launch?").name); // local recall
 * ```
 *
 * @module
 */

export { LocalEngine, type LocalEngineOptions } from "./local/engine.ts";
export { classify, type IntentName, read, type Request } from "./local/reader.ts";

/** What the local engine understood a message to ask (its first request). */
export interface Intent {
  name: import("./local/reader.ts").IntentName;
  subject: string;
}
