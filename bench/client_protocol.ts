/**
 * What the harness (bench/run.ts) and its load clients (bench/load_client.ts)
 * say to each other. A client gets its {@linkcode ClientConfig} as JSON in its
 * first argument, prints `@mark <json>` lines on stdout at checkpoints and
 * waits for a `go` line on stdin after each (so the harness can read the
 * server's counters at that instant, with every client at the same point),
 * and prints one `@result <json>` line at the end.
 *
 * @module
 */

import type { Summary } from "./stats.ts";

/** Fields shared by both kinds of client. */
export interface ClientBase {
  host: string;
  port: number;
  /** `chat-stream` (POST returns the stream) or `runs` (POST, then GET eventsUrl). */
  route: "chat-stream" | "runs";
  message: string;
  /** Read buffer per socket, bytes. */
  bufferSize: number;
  /** Opens at most this many sockets/requests at once while connecting. */
  connectBatch: number;
  /** Epoch ms after which the client closes everything and reports. */
  deadline: number;
  /** Projects to use; created by the client when empty. */
  projectIds: string[];
  /** Projects to create when `projectIds` is empty (streams share them round-robin). */
  projects: number;
  /** Index of this client among its siblings, for logs. */
  index: number;
  /**
   * What the server speaks: Lantern's events (`type`, `seq`, `ts` at the top;
   * the default), or the AI SDK's UI message stream, whose counted parts
   * carry them in `data`, `providerMetadata.bench` or `messageMetadata`
   * (see bench/ai_sdk_peer/server.mjs).
   */
  protocol?: "lantern" | "ui-message";
}

/** Load mode: waves of concurrent runs, each read to its terminal event. */
export interface LoadClientConfig extends ClientBase {
  kind: "load";
  /** Concurrent runs per wave (one socket each, reused across waves). */
  concurrency: number;
  /** Measured waves at least… */
  waves: number;
  /** …and more until `minSeconds` have passed, up to `maxWaves`. */
  minSeconds: number;
  maxWaves: number;
  /** Runs done before the measured waves (same sockets), not counted. */
  warmupRuns: number;
  /** Event-loop lag probe interval, ms. */
  lagIntervalMs: number;
  /** Whether to send every latency sample back (for merging across clients). */
  rawSamples: boolean;
}

/** Hold mode: open streams in steps, keep them open, measure, close. */
export interface HoldClientConfig extends ClientBase {
  kind: "hold";
  /** Cumulative open-stream targets for this client, e.g. [500, 2500, 5000]. */
  steps: number[];
  /** Wait after each step is open before its mark, ms. */
  settleMs: number;
  /** When > 0, after the last step: a measured quiet window of this length, ms. */
  windowMs: number;
  /**
   * When true, one run is started per project (POST runs) and the streams
   * are followers of those runs (GET eventsUrl), shared round-robin; when
   * false, every stream starts its own run.
   */
  followers: boolean;
}

/** Either kind of client configuration. */
export type ClientConfig = LoadClientConfig | HoldClientConfig;

/** A checkpoint a client reached. */
export interface Mark {
  name: string;
  /** Epoch ms. */
  at: number;
  /** Streams open at the mark (hold mode). */
  open?: number;
  /** Streams that failed to open so far (hold mode). */
  failed?: number;
}

/** The client's own cost over the measured span. */
export interface ClientCost {
  cpuSeconds: number;
  wallSeconds: number;
  /** CPU seconds / wall seconds (1.0 = one core busy). */
  cpuShare: number;
  lagMs: Summary;
  rssBytes: number;
}

/** What a load client reports. */
export interface LoadClientResult {
  kind: "load";
  index: number;
  runs: number;
  completed: number;
  failed: number;
  errors: string[];
  events: number;
  bytes: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Runs whose seq did not start at 1 or whose stream ended without a terminal event. */
  incomplete: number;
  terminalTypes: Record<string, number>;
  eventsPerRun: Summary;
  bytesPerEvent: number;
  /** Sum over waves of (last terminal receipt − first POST send), seconds. */
  activeSeconds: number;
  /** First POST send and last receipt of the measured waves, epoch ms. */
  firstSend: number;
  lastReceipt: number;
  ttfeMs: Summary;
  latencyMs: Summary;
  runMs: Summary;
  /** Raw samples when asked for (rounded to µs). */
  raw?: { ttfe: number[]; latency: number[]; run: number[] };
  keepAlives: number;
  cost: ClientCost;
  timedOut: boolean;
}

/** What a hold client reports. */
export interface HoldClientResult {
  kind: "hold";
  index: number;
  target: number;
  opened: number;
  failed: number;
  errors: string[];
  /** Streams that ended (server closed) while they should have stayed open. */
  endedEarly: number;
  eventsTotal: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Over the quiet window. */
  window: {
    start: number;
    end: number;
    streams: number;
    bytes: number;
    events: number;
    keepAlives: number;
    /** Streams that received anything in the window. */
    streamsWoken: number;
  } | null;
  openMs: Summary;
  cost: ClientCost;
  timedOut: boolean;
}

/** Either kind of result. */
export type ClientResult = LoadClientResult | HoldClientResult;
