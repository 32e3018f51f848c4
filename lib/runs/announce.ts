/**
 * What a project's feed hears of its runs: `run.started` and the user's
 * `message.added` in the very commit that starts the run, and `run.ended`
 * once the run's record says it ended (for a run this instance drives, in
 * the log writer's last commit of the run). Viewers of the project (every
 * tab) learn of runs from these.
 *
 * @example
 * ```ts
 * import { commitStart } from "./announce.ts";
 * import { createStores } from "../store/mod.ts";
 * import type { RunRecord } from "../protocol.ts";
 *
 * const stores = createStores(await Deno.openKv(":memory:"));
 * const project = await stores.projects.create("Demo");
 * const message = stores.messages.build({ role: "user", content: "Hello", runId: "r1" });
 * const record = { id: "r1", projectId: project.id, owner: "i1", message: "Hello" } as RunRecord;
 * console.log(await commitStart(stores, record, message)); // true
 * console.log((await stores.messages.list(project.id)).length); // 1
 * stores.kv.close();
 * ```
 *
 * @module
 */

import type { Message, RunRecord } from "../protocol.ts";
import type { Stores } from "../store/mod.ts";
import { feedScopes } from "../feeds/feed_log.ts";
import { urls } from "../urls.ts";
import { runKeys } from "./keys.ts";

/**
 * Stores a new run's record, its place in the index of running runs and the
 * user's message, and tells the project's feed, all in one atomic commit.
 * The commit checks that the project is as this instance last read it
 * (`ProjectStore.known`), and that the context this instance keeps of it is
 * current (`RecentContextReader.guard`): false, and nothing written, when
 * either changed since (the next try finds the project read again and the
 * context dropped).
 *
 * @example
 * ```ts ignore
 * if (!await commitStart(stores, record, userMessage)) { ... read the project again ... }
 * ```
 */
export async function commitStart(stores: Stores, record: RunRecord, message: Message): Promise<boolean> {
  const { projectId } = record;
  let heads: Record<string, number> | null = null;
  try {
    heads = await append(stores, record, message);
  } finally {
    // A check failed (the guard's, perhaps: another instance wrote) or the commit threw: the kept context
    // may be stale, and no run of the project may take it unread.
    if (heads === null) stores.context.drop(projectId);
  }
  return heads !== null;
}

function append(stores: Stores, record: RunRecord, message: Message): Promise<Record<string, number> | null> {
  const { id: runId, projectId } = record;
  return stores.feed.commit([{
    scope: feedScopes.project(projectId),
    changes: [
      {
        type: "run.started",
        run: {
          runId,
          messageId: message.id,
          message: record.message,
          eventsUrl: urls.runEvents(projectId, runId),
        },
      },
      { type: "message.added", message },
    ],
  }], (op) => {
    stores.projects.checkKnown(op, projectId);
    // The project's copy of its context is checked here, so the run's context step need not read it.
    stores.context.guard(op, projectId);
    op.set(runKeys.record(projectId, runId), record)
      .set(runKeys.running(record.owner, runId), { projectId, owner: record.owner })
      .set(stores.messages.key(projectId, message.id), message);
  });
}

/**
 * Tells the project's feed that a run ended, once its record says so, in a
 * commit of its own: for a run another instance left behind (see leases.ts).
 * A run this instance drives ends with its `run.ended` in the log writer's
 * commit. A failure is logged: the run itself has ended and its record says
 * so.
 *
 * @example
 * ```ts ignore
 * announceEnd(stores, finishedRecord);
 * ```
 */
export function announceEnd(stores: Stores, record: RunRecord): void {
  stores.feed.commit([{
    scope: feedScopes.project(record.projectId),
    changes: [{ type: "run.ended", runId: record.id, status: record.status }],
  }]).catch((error) => console.error(`Run ${record.id}: telling its project feed it ended failed:`, error));
}
