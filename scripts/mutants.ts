/**
 * `deno task mutants`: plants each deliberate bug of scripts/mutant_list.ts
 * in a temporary copy of the repository (its tracked files, plus new files
 * not yet committed; the real tree is never edited), runs the tests the
 * mutant names there, one file at a time, and reports whether they caught it:
 * caught means every named file failed (each claims to catch the bug).
 *
 * One line per mutant (`caught`, `MISSED` or `STALE` when its locator no
 * longer matches the code), then `caught N, missed M, stale K`. Exits
 * non-zero when any mutant is missed or stale.
 *
 * Options: `--only id,id` runs only those mutants; `--no-baseline` skips the
 * first run of the named tests on the unchanged copy (which must pass, or
 * "caught" would mean nothing); `--keep` leaves the temporary copies.
 *
 * @module
 */

import { type Edit, type Mutant, MUTANTS } from "./mutant_list.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** Longer than any test file's deadlines: a mutant whose tests hang this long is missed, not caught. */
const TEST_TIMEOUT_MS = 5 * 60_000;
/** Files whose changes need the island bundle rebuilt. */
const CLIENT_CODE = /^(islands|components|lib\/client)\/|^client\.ts$|^lib\/timeline\.ts$/;

/** What {@linkcode applyEdits} made of a copy: the new file texts, or why the mutant is stale. */
export type Applied = { ok: true; files: Map<string, string> } | { ok: false; reason: string };

/**
 * Applies a mutant's edits to file texts read by `read`. Each `find` must
 * match exactly once, or the mutant is stale.
 *
 * @example
 * ```ts
 * import { applyEdits } from "./mutants.ts";
 * const out = applyEdits([{ file: "a.ts", find: "1 + 1", replace: "1 + 2" }], () => "x = 1 + 1;");
 * console.log(out.ok && out.files.get("a.ts")); // x = 1 + 2;
 * ```
 */
export function applyEdits(edits: Edit[], read: (file: string) => string | null): Applied {
  const files = new Map<string, string>();
  for (const edit of edits) {
    const text = files.get(edit.file) ?? read(edit.file);
    if (text === null) return { ok: false, reason: `${edit.file} does not exist` };
    const count = countMatches(text, edit.find);
    if (count !== 1) {
      const what = typeof edit.find === "string" ? JSON.stringify(edit.find.slice(0, 70)) : String(edit.find);
      return { ok: false, reason: `${edit.file}: ${what} matches ${count} times, not once` };
    }
    files.set(
      edit.file,
      typeof edit.find === "string"
        ? text.replace(edit.find, () => edit.replace)
        : text.replace(edit.find, edit.replace),
    );
  }
  return { ok: true, files };
}

function countMatches(text: string, find: string | RegExp): number {
  if (typeof find === "string") return text.split(find).length - 1;
  return [...text.matchAll(new RegExp(find.source, find.flags.includes("g") ? find.flags : find.flags + "g"))]
    .length;
}

async function run(
  args: string[],
  cwd: string,
  timeoutMs = TEST_TIMEOUT_MS,
): Promise<{ code: number; output: string; timedOut: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr), timedOut };
}

async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")} failed.`);
  return new TextDecoder().decode(out.stdout);
}

/** Copies the repository's files (tracked, and new ones not ignored) to `dest`. */
async function copyRepo(dest: string): Promise<void> {
  const list = await git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  for (const file of list.split("\0").filter(Boolean)) {
    const target = `${dest}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    try {
      await Deno.copyFile(`${ROOT}${file}`, target);
    } catch (error) {
      // A tracked file deleted in the working tree is simply not copied.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!out.success) throw new Error(`Copying ${from} to ${to} failed.`);
}

function readIn(dir: string): (file: string) => string | null {
  return (file) => {
    try {
      return Deno.readTextFileSync(`${dir}/${file}`);
    } catch {
      return null;
    }
  };
}

function edits(mutant: Mutant): Edit[] {
  return [{ file: mutant.file, find: mutant.find, replace: mutant.replace }, ...(mutant.more ?? [])];
}

function testArgs(files: string[]): string[] {
  // --no-check: a mutant is judged by behaviour, not by the type checker.
  return ["test", "-A", "--no-check", "--fail-fast", ...files];
}

async function main(): Promise<number> {
  const args = [...Deno.args];
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? "").split(",").filter(Boolean)) : null;
  const baseline = !args.includes("--no-baseline");
  const keep = args.includes("--keep");
  const unknown = only ? [...only].filter((id) => !MUTANTS.some((m) => m.id === id)) : [];
  if (unknown.length > 0) {
    console.error(`No mutant is called ${unknown.map((id) => `"${id}"`).join(", ")}.`);
    return 2;
  }
  const chosen = MUTANTS.filter((m) => !only || only.has(m.id));

  const tmp = await Deno.makeTempDir({ prefix: "lantern-mutants-" });
  const base = `${tmp}/base`;
  let caught = 0, missed = 0, stale = 0;
  try {
    await copyRepo(base);
    const build = await run(["task", "build"], base, 5 * 60_000);
    if (build.code !== 0) throw new Error(`The build failed in the copy:\n${build.output}`);
    const applied = new Map(chosen.map((m) => [m.id, applyEdits(edits(m), readIn(base))]));
    if (baseline) {
      const files = [...new Set(chosen.filter((m) => applied.get(m.id)!.ok).flatMap((m) => m.tests))];
      const started = performance.now();
      const clean = await run(testArgs(files), base, 2 * TEST_TIMEOUT_MS);
      if (clean.code !== 0) {
        console.error(`The named tests fail without any mutant, so nothing can be judged:\n${clean.output}`);
        return 1;
      }
      console.log(`baseline: ${files.length} test files pass unchanged (${seconds(started)})`);
    }
    for (const [n, mutant] of chosen.entries()) {
      const result = applied.get(mutant.id)!;
      if (!result.ok) {
        stale++;
        console.log(`STALE   ${mutant.id}: ${result.reason}`);
        continue;
      }
      const dir = `${tmp}/m${n}`;
      await copyDir(base, dir);
      const started = performance.now();
      try {
        for (const [file, text] of result.files) await Deno.writeTextFile(`${dir}/${file}`, text);
        if ([...result.files.keys()].some((f) => CLIENT_CODE.test(f))) {
          const rebuilt = await run(["task", "build"], dir, 5 * 60_000);
          if (rebuilt.code !== 0) {
            // The copy does not even build: nothing the tests did can be judged.
            missed++;
            console.log(`MISSED  ${mutant.id}: the mutated copy does not build\n${indent(rebuilt.output)}`);
            continue;
          }
        }
        // Every named test file must fail on its own: each claims to catch this bug.
        const passed: string[] = [];
        const hung: string[] = [];
        const where: string[] = [];
        for (const file of mutant.tests) {
          const tested = await run(testArgs([file]), dir);
          if (tested.timedOut) hung.push(file);
          else if (tested.code === 0) passed.push(file);
          else where.push(failedAt(tested.output, file));
        }
        if (passed.length === 0 && hung.length === 0) {
          caught++;
          console.log(`caught  ${mutant.id} by ${where.join(", ")} (${seconds(started)})`);
        } else {
          missed++;
          const why = [
            ...(passed.length > 0 ? [`${passed.join(", ")} passed`] : []),
            ...(hung.length > 0 ? [`${hung.join(", ")} hung instead of failing`] : []),
          ].join("; ");
          console.log(`MISSED  ${mutant.id}: ${mutant.promise} (${why})`);
        }
      } finally {
        if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  } finally {
    if (!keep) await Deno.remove(tmp, { recursive: true }).catch(() => {});
    else console.log(`copies kept in ${tmp}`);
  }
  console.log(`caught ${caught}, missed ${missed}, stale ${stale}`);
  return missed + stale > 0 ? 1 : 0;
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

function indent(text: string): string {
  return text.trim().split("\n").slice(-15).map((line) => `    ${line}`).join("\n");
}

/** Where `deno test` says the first failure is (file and line), or the file that ran. */
function failedAt(output: string, file: string): string {
  const failures = output.slice(output.lastIndexOf("FAILURES"));
  return /=> \.\/(\S+?:\d+):\d+/.exec(failures)?.[1] ?? file;
}

if (import.meta.main) Deno.exit(await main());
