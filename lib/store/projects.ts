/**
 * Projects in KV: `["projects", id]`. Deleting one also deletes what hangs
 * off it: messages, memories, run records, each run's event log, and the
 * parts of long values (answers, results, tool outputs).
 *
 * @module
 */

import { runKeys } from "../runs/keys.ts";
import { newId } from "../ids.ts";
import type { Project } from "../protocol.ts";
import { feedKeys, FeedLog, feedScopes } from "../feeds/feed_log.ts";
import { partsPrefix } from "./chunks.ts";
import { memoryCountKey } from "./memories.ts";
import { messageEditsKey } from "./messages.ts";
import { deletePrefix, isoNow, listValues } from "./kv.ts";

/** How many projects' last reads an instance remembers (see {@linkcode ProjectStore.known}). */
const KNOWN_PROJECTS = 1_000;

/**
 * Creates, lists, reads and deletes projects.
 *
 * @example
 * ```ts
 * import { ProjectStore } from "./projects.ts";
 * const kv = await Deno.openKv(":memory:");
 * const projects = new ProjectStore(kv);
 * const p = await projects.create("Garden");
 * console.log((await projects.get(p.id))?.name); // Garden
 * kv.close();
 * ```
 */
export class ProjectStore {
  #kv: Deno.Kv;
  #feed: FeedLog;
  /** The last read of each project, oldest first. */
  #known = new Map<string, Deno.KvEntry<Project>>();

  /** A store over an open KV; its writes append their changes to `feed`. */
  constructor(kv: Deno.Kv, feed: FeedLog = new FeedLog(kv)) {
    this.#kv = kv;
    this.#feed = feed;
  }

  /** Creates a project with a new id. */
  async create(name: string): Promise<Project> {
    const project: Project = { id: newId(), name, createdAt: isoNow() };
    await this.#feed.commit(
      [{ scope: feedScopes.list, changes: [{ type: "project.created", project }] }],
      (op) => op.set(["projects", project.id], project),
    );
    return project;
  }

  /**
   * A project as this instance last read it, and the versionstamp it had
   * then (read now if it has none). It may be out of date: a run's start
   * commit checks the versionstamp ({@linkcode ProjectStore.checkKnown}), and
   * starts over on a fresh read when the project changed, so starting a run
   * costs no read of the project.
   */
  async known(id: string): Promise<Project | null> {
    const known = this.#known.get(id);
    if (known) return known.value;
    return (await this.#read(id)).value;
  }

  /**
   * Adds to `op` a check that the project is as this instance last read it
   * (see {@linkcode ProjectStore.known}); the commit then fails if it was
   * renamed or deleted since. Without a remembered read, no check is added.
   */
  checkKnown(op: Deno.AtomicOperation, id: string): void {
    const known = this.#known.get(id);
    if (known) op.check(known);
  }

  async #read(id: string): Promise<Deno.KvEntryMaybe<Project>> {
    const entry = await this.#kv.get<Project>(["projects", id]);
    this.#known.delete(id);
    if (entry.versionstamp !== null) {
      this.#known.set(id, entry as Deno.KvEntry<Project>);
      if (this.#known.size > KNOWN_PROJECTS) this.#known.delete(this.#known.keys().next().value!);
    }
    return entry;
  }

  /** Every project, newest first. */
  list(): Promise<Project[]> {
    return listValues<Project>(this.#kv, ["projects"], { reverse: true });
  }

  /** One project, or null. */
  async get(id: string): Promise<Project | null> {
    return (await this.#read(id)).value;
  }

  /** Renames a project and returns it; null if absent. */
  async rename(id: string, name: string): Promise<Project | null> {
    this.#known.delete(id);
    for (;;) {
      const entry = await this.#kv.get<Project>(["projects", id]);
      if (entry.value === null) return null;
      const project = { ...entry.value, name };
      const change = { type: "project.renamed", project } as const;
      // Checked, so a rename racing a delete cannot bring the project back.
      const ok = await this.#feed.commit(
        [{ scope: feedScopes.list, changes: [change] }, { scope: feedScopes.project(id), changes: [change] }],
        (op) => op.check(entry).set(["projects", id], project),
      );
      if (ok) return project;
    }
  }

  /**
   * Deletes a project with its messages, memories, runs and run logs
   * (`["run_events", runId, …]`, `["run_head", runId]`): a log holds the
   * message text, so none outlives its project. False if absent.
   */
  async delete(id: string): Promise<boolean> {
    this.#known.delete(id);
    const existing = await this.#kv.get(["projects", id]);
    if (existing.value === null) return false;
    const change = { type: "project.deleted", projectId: id } as const;
    const scope = feedScopes.project(id);
    const deleted = await this.#feed.commit(
      [{ scope: feedScopes.list, changes: [change] }, { scope, changes: [change] }],
      (op) => op.check(existing).delete(["projects", id]),
    );
    if (!deleted) return false;
    // The feed's changes carry message text: only the one that says it was deleted stays (until the TTL).
    await deletePrefix(this.#kv, feedKeys.events(scope), feedKeys.event(scope, deleted[scope]!));
    for await (const entry of this.#kv.list({ prefix: runKeys.projectRuns(id) }, { batchSize: 500 })) {
      const runId = entry.key[2];
      if (typeof runId !== "string") continue;
      await deletePrefix(this.#kv, runKeys.events(runId));
      await this.#kv.delete(runKeys.head(runId));
    }
    // Long answers, large results and tool outputs kept in parts go too (lib/store/chunks.ts).
    const parted = [["messages", id], runKeys.projectRuns(id), ["outputs", id]].map(partsPrefix);
    for (const prefix of [["messages", id], ["memories", id], runKeys.projectRuns(id), ...parted]) {
      await deletePrefix(this.#kv, prefix);
    }
    await this.#kv.delete(memoryCountKey(id));
    await this.#kv.delete(messageEditsKey(id));
    return true;
  }
}
