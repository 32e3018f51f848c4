/**
 * Lantern's settings, read once from the environment.
 *
 * @module
 */

/** Everything Lantern reads from its environment. */
export interface Config {
  host: string;
  port: number;
  /** A file path, or `:memory:`. Empty string means Deno Deploy's KV. */
  kvPath: string;
  heartbeatMs: number;
  corsOrigins: string[];
  engine: "local" | "openai";
  openai: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    model: string | undefined;
    timeoutMs: number;
    maxRetries: number;
  };
  /** How long a run's event log is kept in KV. */
  runTtlMs: number;
  /** How long an instance's lease lasts before its runs count as orphaned. */
  leaseMs: number;
  /** The `retry:` hint sent to EventSource clients. */
  retryMs: number;
  /** The local engine's pause per step and per token (ms). */
  localPaceMs: number;
  localTokenMs: number;
  /** Whether run events are appended to the KV log. */
  runLog: boolean;
  /** How long running runs get to finish on shutdown (ms). */
  shutdownGraceMs: number;
}

function int(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number of 0 or more, got "${raw}".`);
  }
  return value;
}

function flag(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new Error(`${name} must be "on" or "off", got "${env[name]}".`);
}

/**
 * Reads the configuration from an environment (by default `Deno.env`).
 * Throws an `Error` with a sentence naming the variable when a value is wrong.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ PORT: "9000" });
 * console.log(config.port, config.host); // 9000 127.0.0.1
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Config {
  const engine = env.LANTERN_ENGINE || "local";
  if (engine !== "local" && engine !== "openai") {
    throw new Error(`LANTERN_ENGINE must be "local" or "openai", got "${engine}".`);
  }
  const config: Config = {
    host: env.HOST || "127.0.0.1",
    port: int(env, "PORT", 8000),
    kvPath: env.LANTERN_KV_PATH ?? "./data/lantern.kv",
    heartbeatMs: int(env, "LANTERN_HEARTBEAT_MS", 15_000),
    corsOrigins: (env.LANTERN_CORS_ORIGINS ?? "").split(",").map((s) => s.trim())
      .filter(Boolean),
    engine,
    openai: {
      baseUrl: env.OPENAI_BASE_URL || undefined,
      apiKey: env.OPENAI_API_KEY || undefined,
      model: env.LANTERN_MODEL || undefined,
      timeoutMs: int(env, "LANTERN_MODEL_TIMEOUT_MS", 60_000),
      maxRetries: int(env, "LANTERN_MODEL_RETRIES", 2),
    },
    runTtlMs: int(env, "LANTERN_RUN_TTL_MS", 24 * 60 * 60 * 1000),
    leaseMs: int(env, "LANTERN_LEASE_MS", 10_000),
    retryMs: int(env, "LANTERN_RETRY_MS", 1_000),
    localPaceMs: int(env, "LANTERN_LOCAL_PACE_MS", 120),
    localTokenMs: int(env, "LANTERN_LOCAL_TOKEN_MS", 15),
    runLog: flag(env, "LANTERN_RUN_LOG", true),
    shutdownGraceMs: int(env, "LANTERN_SHUTDOWN_GRACE_MS", 5_000),
  };
  if (config.heartbeatMs < 10) {
    throw new Error(`LANTERN_HEARTBEAT_MS must be at least 10, got "${config.heartbeatMs}".`);
  }
  return config;
}
