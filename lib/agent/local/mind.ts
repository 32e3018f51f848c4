/**
 * Everything of the local engine that reads language, in one module that
 * the engine loads on its first message: compromise and chrono-node take a
 * while to load, and a server should not wait for them to start listening.
 *
 * @example
 * ```ts
 * import { read } from "./mind.ts";
 * console.log(read("When is the launch?")[0]?.intent); // recall
 * ```
 *
 * @module
 */

export { compose } from "./answers.ts";
export { read } from "./reader.ts";
export { previousFacts, replaced } from "./resolve.ts";
