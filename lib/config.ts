/**
 * Lantern's settings, read once from the environment.
 *
 * @module
 */

import { staticRoot } from "./assets.ts";
import { kvPathProblem } from "./store/kv.ts";
import { type Bounds, MEMORY_CHARS_CEILING } from "./store/bounds.ts";

/** Everything Lantern reads from its environment. */
export interface Config {
  host: string;
  port: number;
  /**
   * A file path, `:memory:`, or a KV Connect URL (`https://…`, needs
   * `DENO_KV_ACCESS_TOKEN`). Empty string means Deno Deploy's KV.
   */
  kvPath: string;
  heartbeatMs: number;
  corsOrigins: string[];
  /** `scripted` is the benchmark engine (`deno task bench`), not for people. */
  engine: "local" | "openai" | "scripted";
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
  /**
   * The access token (`LANTERN_TOKEN`). When set, every API route needs it as
   * a bearer token or a session cookie from `/sign-in`; null means open access.
   */
  token: string | null;
  /** How long a sign-in session cookie lasts (ms). */
  sessionTtlMs: number;
  /** Failed sign-ins (and wrong bearer tokens) allowed per client per minute. */
  signInPerMin: number;
  /** Whether the rate limits and stream caps below apply (`LANTERN_LIMITS`). */
  limits: boolean;
  /** Runs a client may start per minute; 0 means no limit. */
  runsPerMin: number;
  /** Runs a project may have running at once; 0 means no limit. */
  maxRunsPerProject: number;
  /** Event streams a client may hold open at once; 0 means no limit. */
  maxStreamsPerClient: number;
  /** Event streams open at once in all; 0 means no limit. */
  maxStreams: number;
  /**
   * Host names (with an optional port) requests may be addressed to
   * (`LANTERN_ALLOWED_HOSTS`); null means the default: loopback names and
   * the listening address while no token is set, any host with a token.
   */
  allowedHosts: string[] | null;
  /** How long a client has to send a whole request body (ms); 0 means no deadline. */
  bodyTimeoutMs: number;
  /**
   * What a project may hold and a run may produce (`LANTERN_MAX_MEMORIES`,
   * `LANTERN_MAX_MEMORY_CHARS`, `LANTERN_MAX_ANSWER_CHARS`,
   * `LANTERN_MAX_TOOL_OUTPUT_CHARS`, `LANTERN_MAX_RUN_MS`); 0 turns one off.
   */
  bounds: Bounds;
  /**
   * The folder that holds `static/` (styles, icons, island bundles): next to
   * the main module when it has one (so `dist/lantern.js` finds
   * `dist/static/` from any working directory), else the checkout's root.
   */
  staticRoot: string;
  /** Run and request log lines (`LANTERN_LOG`): `json`, `pretty` or `off`. */
  log: "json" | "pretty" | "off";
  /** Whether spans may carry message text (`LANTERN_OTEL_CONTENT`). */
  otelContent: boolean;
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

/** Where `static/` is: beside the main module, else in this checkout. */
function logMode(env: Record<string, string | undefined>): Config["log"] {
  const raw = env.LANTERN_LOG?.toLowerCase() || (Deno.stdout.isTerminal() ? "pretty" : "json");
  if (raw !== "json" && raw !== "pretty" && raw !== "off") {
    throw new Error(`LANTERN_LOG must be "json", "pretty" or "off", got "${env.LANTERN_LOG}".`);
  }
  return raw;
}

function token(env: Record<string, string | undefined>): string | null {
  const raw = env.LANTERN_TOKEN;
  if (raw === undefined || raw === "") return null;
  // A header value loses surrounding whitespace and cannot hold control characters.
  // deno-lint-ignore no-control-regex
  if (raw.trim() !== raw || /[\u0000-\u001f\u007f]/.test(raw)) {
    throw new Error("LANTERN_TOKEN cannot start or end with a space or contain control characters.");
  }
  // Clients send headers as bytes, and Deno reads them as Latin-1: a token
  // outside printable ASCII could never match what arrives.
  const bad = /[^\u0020-\u007e]/.exec(raw);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new Error(
      `LANTERN_TOKEN must be printable ASCII (letters, digits, punctuation); it contains U+${code}.`,
    );
  }
  return raw;
}

function hosts(env: Record<string, string | undefined>): string[] | null {
  const raw = env.LANTERN_ALLOWED_HOSTS;
  if (raw === undefined || raw.trim() === "") return null;
  const list = raw.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const host of list) {
    if (host !== "*" && !/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/.test(host)) {
      throw new Error(
        `LANTERN_ALLOWED_HOSTS must be a comma-separated list of host names (with an optional :port), got "${host}".`,
      );
    }
  }
  return list;
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
 * console.log(config.token, config.limits); // null true
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Config {
  const engine = env.LANTERN_ENGINE || "local";
  if (engine !== "local" && engine !== "openai" && engine !== "scripted") {
    throw new Error(`LANTERN_ENGINE must be "local", "openai" or "scripted", got "${engine}".`);
  }
  const config: Config = {
    host: env.HOST || "127.0.0.1",
    port: int(env, "PORT", 8000),
    // On Deno Deploy (DENO_DEPLOYMENT_ID is set) the default is Deploy's own KV.
    kvPath: env.LANTERN_KV_PATH ?? (env.DENO_DEPLOYMENT_ID ? "" : "./data/lantern.kv"),
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
    token: token(env),
    sessionTtlMs: int(env, "LANTERN_SESSION_TTL_MS", 7 * 24 * 60 * 60 * 1000),
    signInPerMin: int(env, "LANTERN_RATE_SIGN_IN_PER_MIN", 10),
    limits: flag(env, "LANTERN_LIMITS", true),
    runsPerMin: int(env, "LANTERN_RATE_RUNS_PER_MIN", 30),
    maxRunsPerProject: int(env, "LANTERN_MAX_RUNS_PER_PROJECT", 3),
    maxStreamsPerClient: int(env, "LANTERN_MAX_STREAMS_PER_CLIENT", 20),
    maxStreams: int(env, "LANTERN_MAX_STREAMS", 10_000),
    allowedHosts: hosts(env),
    bodyTimeoutMs: int(env, "LANTERN_BODY_TIMEOUT_MS", 10_000),
    bounds: {
      maxMemories: int(env, "LANTERN_MAX_MEMORIES", 10_000),
      maxMemoryChars: int(env, "LANTERN_MAX_MEMORY_CHARS", 4_000),
      maxAnswerChars: int(env, "LANTERN_MAX_ANSWER_CHARS", 256 * 1024),
      maxToolOutputChars: int(env, "LANTERN_MAX_TOOL_OUTPUT_CHARS", 64 * 1024),
      maxRunMs: int(env, "LANTERN_MAX_RUN_MS", 10 * 60 * 1000),
    },
    staticRoot: staticRoot(),
    log: logMode(env),
    otelContent: flag(env, "LANTERN_OTEL_CONTENT", false),
  };
  const kvProblem = kvPathProblem(config.kvPath, env);
  if (kvProblem) throw new Error(kvProblem);
  // A memory is one KV value: past this it could not be stored whole.
  const memoryChars = config.bounds.maxMemoryChars;
  if (memoryChars === 0 || memoryChars > MEMORY_CHARS_CEILING) {
    throw new Error(
      `LANTERN_MAX_MEMORY_CHARS must be between 1 and ${MEMORY_CHARS_CEILING}, got "${memoryChars}".`,
    );
  }
  if (config.heartbeatMs < 10) {
    throw new Error(`LANTERN_HEARTBEAT_MS must be at least 10, got "${config.heartbeatMs}".`);
  }
  return config;
}
