/**
 * Picks the engine the configuration names.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Engine } from "./engine.ts";
import { LocalEngine } from "./local_engine.ts";
import { OpenAIEngine, openAIEngineOptions } from "./openai_engine.ts";
import { ScriptedEngine } from "./scripted_engine.ts";

/**
 * The engine for a configuration. Throws an `Error` with a clear sentence
 * when the engine cannot be set up (a missing key, say).
 *
 * @example
 * ```ts
 * import { createEngine } from "./engines.ts";
 * import { loadConfig } from "../config.ts";
 * console.log(createEngine(loadConfig({})).name); // local
 * console.log(createEngine(loadConfig({ LANTERN_ENGINE: "scripted" })).name); // scripted
 * ```
 */
export function createEngine(config: Config): Engine {
  if (config.engine === "openai") return new OpenAIEngine(openAIEngineOptions(config));
  // The benchmark engine: no parsing, no model, no pacing (see scripted_engine.ts).
  if (config.engine === "scripted") return new ScriptedEngine();
  return new LocalEngine({ paceMs: config.localPaceMs, tokenMs: config.localTokenMs });
}
