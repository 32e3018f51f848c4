/**
 * Reads a process's CPU time, memory and wake-ups from Linux's /proc, and
 * samples them in the background so a phase's peak can be reported.
 *
 * @module
 */

/** One reading of a process's counters. */
export interface ProcSnapshot {
  /** Epoch ms when read (performance.timeOrigin + performance.now()). */
  at: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** Peak resident set size since start (VmHWM), in bytes. */
  hwmBytes: number;
  threads: number;
  /** Voluntary + involuntary context switches summed over all threads. */
  ctxSwitches: number;
  /**
   * CPU seconds by thread name (`main` for the JS thread; others by their
   * kernel name with numbers dropped, e.g. `sw-` for Deno KV's SQLite worker).
   */
  threadCpu: Record<string, number>;
}

let clockTicks = 100;
try {
  const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped", stderr: "null" })
    .outputSync();
  const value = Number(new TextDecoder().decode(out.stdout).trim());
  if (Number.isInteger(value) && value > 0) clockTicks = value;
} catch {
  // getconf missing: Linux's default of 100 ticks a second applies.
}

/** Clock ticks per second used by /proc/<pid>/stat (USER_HZ). */
export const CLOCK_TICKS: number = clockTicks;

function statusField(text: string, name: string): number {
  const start = text.indexOf(`\n${name}:`);
  if (start < 0) return 0;
  const end = text.indexOf("\n", start + 1);
  const line = text.slice(start + name.length + 2, end < 0 ? undefined : end);
  return Number.parseInt(line.trim(), 10) || 0;
}

/**
 * CPU ms of this process's threads by name ("main" is the JS thread, "sw-" KV's SQLite threads): what the
 * in-process benches take before and after their work.
 *
 * @example
 * ```ts ignore
 * const before = ownThreadCpuMs();
 * // … the work …
 * const mainMs = ownThreadCpuMs().get("main")! - before.get("main")!;
 * ```
 */
export function ownThreadCpuMs(): Map<string, number> {
  return new Map(
    Object.entries(readProc(Deno.pid).threadCpu).map(([name, seconds]) => [name, seconds * 1000]),
  );
}

/** Reads a process's counters; throws if the process is gone. */
export function readProc(pid: number, withThreads = true): ProcSnapshot {
  const at = performance.timeOrigin + performance.now();
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command name start at field 3 (state); utime is 14, stime 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  let ctxSwitches = 0;
  const threadCpu: Record<string, number> = {};
  if (withThreads) {
    try {
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        try {
          const t = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/status`);
          ctxSwitches += statusField(t, "voluntary_ctxt_switches") +
            statusField(t, "nonvoluntary_ctxt_switches");
          const ts = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
          const tf = ts.slice(ts.lastIndexOf(")") + 2).split(" ");
          const name = task.name === String(pid)
            ? "main"
            : ts.slice(ts.indexOf("(") + 1, ts.lastIndexOf(")")).replace(/[0-9]+$/, "").trim();
          threadCpu[name] = (threadCpu[name] ?? 0) + (Number(tf[11]) + Number(tf[12])) / CLOCK_TICKS;
        } catch {
          // The thread ended between listing and reading.
        }
      }
    } catch {
      // The process ended; the stat read above would normally have thrown.
    }
  }
  return {
    at,
    cpuSeconds: ticks / CLOCK_TICKS,
    rssBytes: statusField(status, "VmRSS") * 1024,
    hwmBytes: statusField(status, "VmHWM") * 1024,
    threads: statusField(status, "Threads"),
    ctxSwitches,
    threadCpu,
  };
}

/** Reads a process's counters, or `null` if it is gone. */
export function tryReadProc(pid: number, withThreads = true): ProcSnapshot | null {
  try {
    return readProc(pid, withThreads);
  } catch {
    return null;
  }
}

/** Machine-wide CPU counters from /proc/stat, in CPU seconds. */
export interface MachineCpu {
  at: number;
  /** CPU seconds spent busy (user, nice, system, irq, softirq, steal) on all cores. */
  busySeconds: number;
}

/** Reads machine-wide CPU time (all cores) from /proc/stat. */
export function readMachineCpu(): MachineCpu {
  const at = performance.timeOrigin + performance.now();
  const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return { at, busySeconds: busy / CLOCK_TICKS };
}

/** Number of open file descriptors of a process, or `null` if unreadable. */
export function countFds(pid: number): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return null;
  }
}

/**
 * Samples a process every `intervalMs` until stopped, keeping the peak RSS
 * seen (VmHWM covers the whole process life; this covers the sampled span).
 */
export class ProcSampler {
  readonly pid: number;
  readonly samples: ProcSnapshot[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  peakRssBytes = 0;

  /** Starts sampling `pid` at once and every `intervalMs` after. */
  constructor(pid: number, intervalMs = 200) {
    this.pid = pid;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample now (also called by the timer). */
  sample(): ProcSnapshot | null {
    const snap = tryReadProc(this.pid, false);
    if (snap) {
      this.samples.push(snap);
      if (snap.rssBytes > this.peakRssBytes) this.peakRssBytes = snap.rssBytes;
    }
    return snap;
  }

  /** Stops the timer; returns the last sample taken. */
  stop(): ProcSnapshot | null {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.sample() ?? this.samples.at(-1) ?? null;
  }
}

/** What the report says about the machine. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalMiB: number;
  kernel: string;
  deno: string;
  v8: string;
  openFilesLimit: string;
}

/** Describes this machine from /proc and Deno. */
export function machineInfo(): MachineInfo {
  let cpuModel = "unknown";
  let memTotalMiB = 0;
  let kernel = "unknown";
  try {
    const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpuModel;
  } catch { /* not Linux */ }
  try {
    const meminfo = Deno.readTextFileSync("/proc/meminfo");
    memTotalMiB = Math.round(Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024);
  } catch { /* not Linux */ }
  try {
    kernel = Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim();
  } catch { /* not Linux */ }
  let openFilesLimit = "unknown";
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (m) openFilesLimit = `${m[1]} soft / ${m[2]} hard`;
  } catch { /* not Linux */ }
  return {
    nproc: navigator.hardwareConcurrency,
    cpuModel,
    memTotalMiB,
    kernel,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    openFilesLimit,
  };
}
