/**
 * What a project page shows, read from the stores and the run logs: the
 * conversation, the memories, the facts of every run, and the full steps of
 * the latest run (and of any opened with `?steps=`), folded from its log so a
 * reload paints where a running run really is.
 *
 * @module
 */

import type { ChatPanelProps } from "../islands/ChatPanel.tsx";
import { groupExchanges, type RunInfo, runInfo } from "../lib/exchanges.ts";
import type { AppDeps } from "../lib/http/deps.ts";
import { feedScopes } from "../lib/feeds/feed_log.ts";
import { formatPosition } from "../lib/feeds/position.ts";
import { isId } from "../lib/ids.ts";
import type { Project, RunRecord } from "../lib/protocol.ts";
import { applyEvent, foldEvents, type Timeline, timelineFromRecord } from "../lib/timeline.ts";

/** How many of the latest exchanges the island renders (and hydrates); earlier ones are static. */
export const ISLAND_EXCHANGES = 4;

/** How many runs a page reads records for (older ones fold without a summary). */
const RUN_RECORDS = 200;

/**
 * The timeline of a run from its log, plus what this instance holds in
 * memory beyond the log (the log is written in the background). A run whose
 * log has expired falls back to what its record says.
 *
 * @example
 * ```ts ignore
 * const timeline = await runTimeline(runs, record);
 * ```
 */
export async function runTimeline(runs: AppDeps["runs"], record: RunRecord): Promise<Timeline> {
  const events = await runs.log.read(record.id, 0);
  let timeline = foldEvents(events, record.id);
  if (record.status === "running") {
    try {
      const { feed, release } = await runs.open(record.projectId, record.id);
      try {
        for (const event of feed.after(timeline.lastSeq)) timeline = applyEvent(timeline, event);
      } finally {
        release();
      }
    } catch {
      // Not followable right now: the log's state is still true, the island catches up.
    }
    return timeline;
  }
  return events.length === 0 || timeline.outcome === "running" ? timelineFromRecord(record) : timeline;
}

/**
 * The island's props for a project page.
 *
 * @example
 * ```ts ignore
 * const props = await chatProps(deps, project, { steps: c.req.query("steps") });
 * ```
 */
export async function chatProps(
  { stores, runs }: AppDeps,
  project: Project,
  options: { steps?: string; notice?: string },
): Promise<ChatPanelProps> {
  // The feed's head first: whatever changes after it is replayed to the island, so nothing is missed.
  const head = await stores.feed.head(feedScopes.project(project.id));
  const [messages, memories, records] = await Promise.all([
    stores.messages.list(project.id),
    stores.memories.list(project.id),
    runs.list(project.id, RUN_RECORDS),
  ]);
  const byId = new Map(records.map((r) => [r.id, r]));
  const exchanges = groupExchanges(messages);
  const latest = exchanges[exchanges.length - 1]?.runId ?? null;
  const steps = options.steps && isId(options.steps) && byId.has(options.steps) ? options.steps : null;
  const wanted = [
    ...new Set([latest, steps, ...records.filter((r) => r.status === "running").map((r) => r.id)]),
  ]
    .filter((id): id is string => id !== null && byId.has(id));
  const timelines: Record<string, Timeline> = {};
  await Promise.all(wanted.map(async (id) => timelines[id] = await runTimeline(runs, byId.get(id)!)));
  const infos: Record<string, RunInfo> = {};
  for (const x of exchanges) {
    const record = x.runId ? byId.get(x.runId) : undefined;
    if (record) infos[record.id] = runInfo(record);
  }
  // Only the latest exchanges go to the island; the earlier ones are static HTML.
  const split = Math.max(0, exchanges.length - ISLAND_EXCHANGES);
  const older = new Set<string>();
  for (const x of exchanges.slice(0, split)) {
    if (x.user) older.add(x.user.id);
    if (x.answer) older.add(x.answer.id);
  }
  const own = messages.filter((m) => !older.has(m.id));
  return {
    project,
    messages: own,
    olderCount: split,
    olderMessages: messages.filter((m) => older.has(m.id)),
    firstMessageId: split > 0 ? own.reduce((a, m) => (m.id < a ? m.id : a), own[0]?.id ?? "") || null : null,
    memories,
    timelines,
    runs: infos,
    position: formatPosition(
      head,
      records.filter((r) => r.status === "running").map((r) => [r.id, timelines[r.id]?.lastSeq ?? 0]),
    ),
    expanded: steps ? [steps] : [],
    engine: { name: runs.engine.name, model: runs.engine.model },
    instance: runs.instanceId,
    renderedAt: Date.now(),
    ...(options.notice ? { notice: options.notice.slice(0, 500) } : {}),
  };
}
