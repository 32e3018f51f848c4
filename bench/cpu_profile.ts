/**
 * Summarises a V8 `.cpuprofile` (as written by `deno run --cpu-prof`): top
 * functions by self and by inclusive time, and time by module, with idle
 * time left out of the percentages.
 *
 * Run: `deno run --allow-read bench/cpu_profile.ts <file.cpuprofile> [top]`.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row of a summary: a function or a module and its time. */
export interface ProfileRow {
  name: string;
  where: string;
  ms: number;
  /** Share of the profile's busy (non-idle) time. */
  share: number;
}

/** What {@linkcode summarizeProfile} returns. */
export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  totalMs: number;
  /** Time the main thread was busy (not idle), ms. */
  busyMs: number;
  gcMs: number;
  topSelf: ProfileRow[];
  topInclusive: ProfileRow[];
  byModule: ProfileRow[];
}

const ROOT = new URL("..", import.meta.url).href;

/** A short name for a script URL: a repo path, an npm package, or a Deno internal. */
export function moduleOf(url: string): string {
  if (!url) return "(native / VM)";
  const npm = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url) ??
    /registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  if (url.startsWith("ext:")) return url.replace(/^ext:([^/]+)\/.*$/, "ext:$1");
  return url.replace(/^file:\/\//, "");
}

function where(frame: CallFrame): string {
  const mod = moduleOf(frame.url);
  return frame.url ? `${mod}:${frame.lineNumber + 1}` : mod;
}

/** Summarises a parsed profile. */
export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, ProfileRow>();
  const inclusive = new Map<string, ProfileRow>();
  const modules = new Map<string, ProfileRow>();
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  const add = (map: Map<string, ProfileRow>, key: string, name: string, at: string, us: number) => {
    const row = map.get(key) ?? { name, where: at, ms: 0, share: 0 };
    row.ms += us / 1000;
    map.set(key, row);
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    totalUs += us;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const fn = node.callFrame.functionName || "(anonymous)";
    if (fn === "(idle)") {
      idleUs += us;
      continue;
    }
    if (fn === "(garbage collector)") gcUs += us;
    const at = where(node.callFrame);
    add(self, `${fn}@${at}`, fn, at, us);
    add(modules, moduleOf(node.callFrame.url), moduleOf(node.callFrame.url), "", us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const name = n.callFrame.functionName || "(anonymous)";
      if (name === "(root)") break;
      const key = `${name}@${where(n.callFrame)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, name, where(n.callFrame), us);
    }
  }
  const busyUs = totalUs - idleUs;
  const finish = (map: Map<string, ProfileRow>) =>
    [...map.values()]
      .map((r) => ({ ...r, share: busyUs > 0 ? (r.ms * 1000) / busyUs : 0 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    gcMs: gcUs / 1000,
    topSelf: finish(self),
    topInclusive: finish(inclusive),
    byModule: finish(modules),
  };
}

/** Reads and summarises a `.cpuprofile` file. */
export async function summarizeProfileFile(path: string, top = 20): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await Deno.readTextFile(path)) as CpuProfile, top);
}

/** Renders a summary as Markdown tables. */
export function renderProfile(summary: ProfileSummary, title: string): string {
  const out = [
    `#### ${title}`,
    "",
    `Profile covers ${(summary.totalMs / 1000).toFixed(2)} s; main thread busy ${
      (summary.busyMs / 1000).toFixed(2)
    } s (GC ${(summary.gcMs / 1000).toFixed(2)} s). Shares are of busy time.`,
    "",
  ];
  const table = (heading: string, rows: ProfileRow[], withWhere: boolean) => {
    out.push(`**${heading}**`, "");
    out.push(withWhere ? "| Function | Where | ms | Share |" : "| Module | ms | Share |");
    out.push(withWhere ? "| --- | --- | --- | --- |" : "| --- | --- | --- |");
    for (const r of rows) {
      const share = `${(r.share * 100).toFixed(1)}%`;
      out.push(
        withWhere
          ? `| \`${r.name}\` | ${r.where} | ${r.ms.toFixed(0)} | ${share} |`
          : `| ${r.name} | ${r.ms.toFixed(0)} | ${share} |`,
      );
    }
    out.push("");
  };
  table("Top functions by self time", summary.topSelf, true);
  table("Top functions by inclusive time", summary.topInclusive, true);
  table("Time by module (self)", summary.byModule, false);
  return out.join("\n");
}

if (import.meta.main) {
  const [path, top] = Deno.args;
  if (!path) {
    console.error("usage: deno run --allow-read bench/cpu_profile.ts <file.cpuprofile> [top]");
    Deno.exit(2);
  }
  console.log(renderProfile(await summarizeProfileFile(path, Number(top ?? 20)), path));
}
