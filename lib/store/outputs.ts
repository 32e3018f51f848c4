/**
 * Tool outputs too large for their `action` event, kept whole in parts
 * (lib/store/chunks.ts) under `["parts", "outputs", projectId, runId, index, n]`
 * and served by `GET /api/projects/:id/runs/:runId/actions/:index/output`.
 * They are kept as long as the run's log (`LANTERN_RUN_TTL_MS`: a summary of
 * thousands of memories is megabytes), and go with their project.
 *
 * @module
 */

import { partsPrefix, readText, writeText } from "./chunks.ts";

/** One kept output, as it travels in an export document. */
export interface KeptOutput {
  runId: string;
  index: number;
  /** The whole output, as JSON text. */
  json: string;
}

/**
 * Saves and reads the whole output of one tool action, as JSON text.
 *
 * @example
 * ```ts
 * import { OutputStore } from "./outputs.ts";
 * const kv = await Deno.openKv(":memory:");
 * const outputs = new OutputStore(kv);
 * await outputs.save("p1", "r1", 0, JSON.stringify({ memories: ["x".repeat(100_000)] }));
 * console.log((await outputs.read("p1", "r1", 0))?.length); // 100017
 * console.log(await outputs.read("p1", "r1", 1)); // null
 * console.log((await outputs.all("p1")).map((o) => [o.runId, o.index])); // [["r1", 0]]
 * kv.close();
 * ```
 */
export class OutputStore {
  #kv: Deno.Kv;
  #ttlMs: number | undefined;

  /** A store over an open KV; outputs expire after `ttlMs` when given. */
  constructor(kv: Deno.Kv, ttlMs?: number) {
    this.#kv = kv;
    this.#ttlMs = ttlMs;
  }

  /** Where one action's output is kept (the owner of its parts). */
  key(projectId: string, runId: string, index: number): Deno.KvKey {
    return ["outputs", projectId, runId, index];
  }

  /** Keeps an action's whole output (its JSON), over as many commits as it takes. */
  async save(projectId: string, runId: string, index: number, json: string): Promise<void> {
    const expiry = this.#ttlMs ? { expireIn: this.#ttlMs } : {};
    await writeText(this.#kv, this.key(projectId, runId, index), json, expiry);
  }

  /** An action's whole output as JSON text, or null when none was kept. */
  read(projectId: string, runId: string, index: number): Promise<string | null> {
    return readText(this.#kv, this.key(projectId, runId, index));
  }

  /** Every output kept for a project, in order of run and index (for export). */
  async all(projectId: string): Promise<KeptOutput[]> {
    const kept: KeptOutput[] = [];
    // Parts are listed in key order: run, index, then part number, so each output's parts come together.
    const prefix = partsPrefix(["outputs", projectId]);
    for await (const entry of this.#kv.list<string>({ prefix }, { batchSize: 100 })) {
      const [runId, index] = entry.key.slice(prefix.length) as [string, number];
      const last = kept.at(-1);
      if (last && last.runId === runId && last.index === index) last.json += entry.value;
      else kept.push({ runId, index, json: entry.value });
    }
    return kept;
  }
}
