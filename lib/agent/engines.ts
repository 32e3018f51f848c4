/**
 * Picks the engine the configuration names.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Engine } from "./engine.ts";

/**
 * The engine for a configuration. Throws an `Error` with a clear sentence
 * when the engine cannot be set up (a missing key, say). Only the chosen
 * engine's module is loaded: the local engine's language libraries take
 * about 40 MiB of memory and the OpenAI SDK about 25 MiB, which a server
 * using the other engine never needs.
 *
 * @example
 * ```ts
 * import { createEngine } from "./engines.ts";
 * import { loadConfig } from "../config.ts";
 * console.log((await createEngine(loadConfig({}))).name); // local
 * console.log((await createEngine(loadConfig({ LANTERN_ENGINE: "scripted" }))).name); // scripted
 * ```
 */
export async function createEngine(config: Config): Promise<Engine> {
  if (config.engine === "openai") {
    const { OpenAIEngine, openAIEngineOptions } = await import("./openai_engine.ts");
    return new OpenAIEngine(openAIEngineOptions(config));
  }
  // The benchmark engine: no parsing, no model, no pacing (see scripted_engine.ts).
  if (config.engine === "scripted") return new (await import("./scripted_engine.ts")).ScriptedEngine();
  const { LocalEngine } = await import("./local_engine.ts");
  return new LocalEngine({ paceMs: config.localPaceMs, tokenMs: config.localTokenMs });
}
