/**
 * Puts Lantern together: KV, stores, engine, run registry and app.
 *
 * @module
 */

import type { Hono } from "hono";
import { createEngine } from "./agent/engines.ts";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { createLimits, type Limits } from "./http/limits.ts";
import { RunRegistry } from "./runs/registry.ts";
import { createStores, openKv, type Stores } from "./store/mod.ts";

/** A running Lantern, minus the listening socket. */
export interface Lantern {
  config: Config;
  stores: Stores;
  runs: RunRegistry;
  app: Hono;
  /** Rate limits and stream caps (null members are off), for tests and stats. */
  limits: Limits;
  /**
   * The request handler. Pass `Deno.serve`'s connection info as `info`: its
   * remote address is the client identity that limits count by.
   */
  fetch: (request: Request, info?: Deno.ServeHandlerInfo) => Response | Promise<Response>;
  /** Lets runs finish (up to `graceMs`), tells followers, closes KV. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Opens KV and builds everything over it.
 *
 * @example
 * ```ts
 * import { createLantern } from "./server.ts";
 * import { loadConfig } from "./config.ts";
 * const lantern = await createLantern(loadConfig({ LANTERN_KV_PATH: ":memory:" }));
 * const res = await lantern.fetch(new Request("http://localhost/api/projects"));
 * console.log(res.status); // 200
 * await lantern.close(0);
 * ```
 */
export async function createLantern(config: Config): Promise<Lantern> {
  const engine = createEngine(config);
  const kv = await openKv(config.kvPath);
  const stores = createStores(kv);
  const runs = new RunRegistry({
    stores,
    engine,
    runTtlMs: config.runTtlMs,
    leaseMs: config.leaseMs,
    durableLog: config.runLog,
  });
  await runs.init();
  const limits = createLimits(config);
  const app = createApp({ config, stores, runs, limits });
  let closed = false;
  return {
    config,
    stores,
    runs,
    app,
    limits,
    fetch: (request, info) => app.fetch(request, info),
    async close(graceMs = config.shutdownGraceMs) {
      if (closed) return;
      closed = true;
      await runs.close(graceMs);
      kv.close();
    },
  };
}
