/**
 * What a piece of work allocates, from V8's sampling heap profiler: every
 * object sampled, including those the garbage collector has since freed, so
 * the total is what was allocated, not what is alive. Each sample is charged
 * to the nearest repository file on its stack (lib/, routes/, main.ts), the
 * runtime's own work to "(runtime)".
 *
 * Allocation is steadier than CPU time on a busy 2-core machine: a change
 * that allocates less shows it in one run, where its CPU gain hides in noise.
 *
 * @example
 * ```ts ignore
 * import { startAllocations } from "./alloc_profile.ts";
 * const stop = await startAllocations();
 * // ... the work ...
 * const { totalBytes, byFile } = await stop();
 * console.log(totalBytes, byFile.slice(0, 5));
 * ```
 *
 * @module
 */

import { Session } from "node:inspector/promises";

interface HeapNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated, in all and by the nearest repository file on the stack. */
export interface Allocations {
  totalBytes: number;
  /** Largest first. */
  byFile: { file: string; bytes: number }[];
}

/** The repository file of a profile URL (lib/, routes/, islands/, components/, main.ts), else null. */
export function repositoryFile(url: string): string | null {
  const match = /\/((?:lib|routes|islands|components)\/[^?#]+|main\.ts)$/.exec(url);
  return match ? match[1]! : null;
}

/** Sums a sampling heap profile's samples by the nearest repository file on each stack. */
export function allocationsOf(head: HeapNode): Allocations {
  const byFile = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: HeapNode, nearest: string) => {
    const here = repositoryFile(node.callFrame.url) ?? nearest;
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      byFile.set(here, (byFile.get(here) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, "(runtime)");
  return {
    totalBytes,
    byFile: [...byFile].map(([file, bytes]) => ({ file, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/**
 * Starts sampling allocations in this isolate (one sample per 128 bytes on
 * average); the function it returns stops and sums them.
 */
export async function startAllocations(): Promise<() => Promise<Allocations>> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as { samplingInterval: number });
  return async () => {
    const { profile } = await session.post("HeapProfiler.stopSampling") as unknown as {
      profile: { head: HeapNode };
    };
    await session.post("HeapProfiler.disable");
    session.disconnect();
    return allocationsOf(profile.head);
  };
}
