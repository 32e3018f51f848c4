/**
 * The AG-UI event stream of a run: the mapper's events as `data:` frames,
 * pulled from a {@linkcode FeedCursor} like the native stream.
 *
 * @module
 */

import { EventEncoder } from "@ag-ui/encoder";
import type { Memory, RunEvent } from "../protocol.ts";
import { FeedCursor } from "../runs/cursor.ts";
import type { RunFeed } from "../runs/feed.ts";
import { KEEP_ALIVE_FRAME, SSE_HEADERS } from "../sse.ts";
import { type AguiEvent, AguiMapper } from "./mapper.ts";

/** Where a stream gets the project's memories for its state snapshots. */
export interface MemorySource {
  /** The memories when the run started. */
  initial: Memory[];
  /** Reads them again (after the memory step). */
  load(): Promise<Memory[]>;
}

/** Whether an event ends the memory step, after which the memories are sent again. */
function endsMemoryStep(event: RunEvent): boolean {
  return event.type === "progress" && event.progress.step === "memory" && event.progress.phase === "end";
}

const encoder = new TextEncoder();
const eventEncoder = new EventEncoder();

/** The content type of an AG-UI stream, as `@ag-ui/encoder` chooses it. */
export const AGUI_CONTENT_TYPE: string = eventEncoder.getContentType();

/** The headers of an AG-UI stream response. */
export const AGUI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SSE_HEADERS,
  "content-type": AGUI_CONTENT_TYPE,
});

/** Encodes one AG-UI event as its `data:` frame. */
export function encodeAguiEvent(event: AguiEvent): Uint8Array {
  return encoder.encode(eventEncoder.encode(event));
}

/** Options of {@linkcode aguiStream}. */
export interface AguiStreamOptions {
  /** Send a keep-alive comment after this much silence. */
  heartbeatMs: number;
  /** Called once when the stream ends, for any reason. */
  onClose?: () => void;
}

/**
 * The AG-UI event stream (`data: <event JSON>` frames) of a run's feed, from
 * its first event: the opening events, each native event mapped (with a
 * fresh state snapshot after the memory step), and `RUN_FINISHED` or
 * `RUN_ERROR` last (a `RUN_ERROR` also when the feed closes without a
 * terminal event). It pulls, as the native stream does: events are mapped
 * only when the response asks for more, so a slow reader holds a cursor,
 * never a buffer, and keep-alive comments come from one timer per stream,
 * armed only while the stream waits. Cancelling the stream (the client went
 * away) stops following the feed; the run goes on.
 *
 * @example
 * ```ts
 * import { AguiMapper } from "./mapper.ts";
 * import { aguiStream } from "./stream.ts";
 * import { RunFeed } from "../runs/feed.ts";
 * const feed = new RunFeed("L1", "p1");
 * feed.push({ type: "error", runId: "L1", seq: 1, ts: 0, error: { code: "x", message: "No.", step: null } });
 * const mapper = new AguiMapper({ threadId: "t1", runId: "r1", lanternRunId: "L1", projectId: "p1" });
 * const memories = { initial: [], load: () => Promise.resolve([]) };
 * const body = aguiStream(feed, mapper, memories, { heartbeatMs: 1000 });
 * console.log((await new Response(body).text()).startsWith('data: {"type":"RUN_STARTED"')); // true
 * ```
 */
export function aguiStream(
  feed: RunFeed,
  mapper: AguiMapper,
  memories: MemorySource,
  options: AguiStreamOptions,
): ReadableStream<Uint8Array> {
  const cursor = new FeedCursor(feed, { after: 0, heartbeatMs: options.heartbeatMs });
  const cleanup = () => {
    if (cursor.close()) options.onClose?.();
  };
  /** Ends the stream after the run's last AG-UI event (or a `RUN_ERROR` if it had none). */
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    for (const event of mapper.lost()) controller.enqueue(encodeAguiEvent(event));
    controller.close();
    cleanup();
  };
  /** Maps and sends a batch of native events; a memory step's end brings a fresh snapshot. */
  const send = async (controller: ReadableStreamDefaultController<Uint8Array>, batch: RunEvent[]) => {
    for (const event of batch) {
      for (const mapped of mapper.map(event)) controller.enqueue(encodeAguiEvent(mapped));
      if (mapper.ended) return end(controller);
      if (!endsMemoryStep(event)) continue;
      let current: Memory[] | null = null;
      try {
        current = await memories.load();
      } catch (error) {
        // The snapshot is a courtesy; the stream goes on without it.
        console.error("Reading memories for an AG-UI state snapshot failed:", error);
      }
      if (cursor.closed) return;
      if (current) controller.enqueue(encodeAguiEvent(mapper.snapshot(current)));
    }
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of mapper.start(memories.initial)) controller.enqueue(encodeAguiEvent(event));
    },
    async pull(controller) {
      let step;
      try {
        step = await cursor.next();
      } catch (error) {
        if (cursor.closed) return;
        console.error(`The AG-UI stream of run ${feed.runId} could not catch up from its log:`, error);
        return end(controller);
      }
      if (cursor.closed) return;
      if (step.kind === "keep-alive") return controller.enqueue(KEEP_ALIVE_FRAME);
      if (step.kind === "end") return end(controller);
      await send(controller, step.events);
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0 });
}
