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
import { FeedHub } from "./feeds/hub.ts";
import { createStores, openKv, type Stores, whileLocked } from "./store/mod.ts";
import { createLogger, type Logger } from "./ops/log.ts";
import { migrate, type MigrationReport } from "./ops/migrations.ts";
import { timeKvCommits } from "./telemetry/kv_metrics.ts";
import { observeGauges } from "./telemetry/metrics.ts";
import { configureRunHooks, otelEnabled } from "./telemetry/run_hooks.ts";

/** A running Lantern, minus the listening socket. */
export interface Lantern {
  config: Config;
  stores: Stores;
  runs: RunRegistry;
  /** This instance's feeds (project and list), for tests and stats. */
  feeds: FeedHub;
  app: Hono;
  /** Rate limits and stream caps (null members are off), for tests and stats. */
  limits: Limits;
  /** Structured logs (`LANTERN_LOG`). */
  logger: Logger;
  /** What the schema migrations at start-up did. */
  migrations: MigrationReport;
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
  const engine = await createEngine(config);
  const logger = createLogger(config.log);
  const traces = otelEnabled();
  const kv = await openKv(config.kvPath);
  if (traces) timeKvCommits(kv);
  let migrations: MigrationReport;
  try {
    // The isolates of `deno serve --parallel` migrate one file at once: a locked file is retried.
    migrations = await whileLocked(() => migrate(kv));
  } catch (error) {
    kv.close();
    throw error;
  }
  if (migrations.applied.length > 0) {
    logger.info("schema migrated", { from: migrations.from, to: migrations.to });
  }
  configureRunHooks({ logger, traces, content: config.otelContent });
  const stores = createStores(kv, config.bounds, config.runTtlMs);
  const runs = new RunRegistry({
    stores,
    engine,
    runTtlMs: config.runTtlMs,
    leaseMs: config.leaseMs,
    durableLog: config.runLog,
  });
  await runs.init();
  const stopGauges = traces ? observeGauges(runs) : () => {};
  const limits = createLimits(config);
  const feeds = new FeedHub(stores.feed, { heartbeatMs: config.heartbeatMs, shutdown: runs.shutdownSignal });
  const app = createApp({ config, stores, runs, limits, logger, feeds });
  let closed = false;
  return {
    config,
    stores,
    runs,
    feeds,
    app,
    limits,
    logger,
    migrations,
    fetch: (request, info) => app.fetch(request, info),
    async close(graceMs = config.shutdownGraceMs) {
      if (closed) return;
      closed = true;
      stopGauges();
      await runs.close(graceMs);
      feeds.close();
      kv.close();
    },
  };
}
