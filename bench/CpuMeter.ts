/**
 * CPU time spent by this process and by another one (the nats-server) over a stretch of a bench:
 * what says whether a rate is bounded by the machine's cores rather than by waiting. On a machine
 * whose cores are busy, two ways of doing the same work compare as their CPU per message does.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Ticks per second of `/proc/<pid>/stat`'s utime and stime (USER_HZ): 100 on every Linux
 * architecture Node supports (the kernel exports a fixed value to user space).
 */
const USER_HZ = 100;

/** CPU time (user + system) process `pid` has used so far, in µs, from `/proc` (Linux); NaN elsewhere. */
export function processCpuMicros(pid: number): number {
  return statCpuMicros(`/proc/${pid}/stat`);
}

/**
 * CPU time (user + system) this process's main thread has used so far, in µs (Linux; NaN
 * elsewhere): where a Node process runs all its JavaScript, so one core's worth of it per second
 * is as fast as the process can go, whatever its other threads (GC helpers, libuv) use.
 */
export function mainThreadCpuMicros(): number {
  return statCpuMicros(`/proc/${process.pid}/task/${process.pid}/stat`);
}

function statCpuMicros(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / USER_HZ : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) of process `root`'s live descendants so far, in µs, but those in
 * `exclude` and theirs; with `withRoot`, also `root`'s own and what it collected of its children
 * that exited (`cutime` + `cstime`: a PostgreSQL backend's CPU lands in its postmaster's when the
 * backend ends). Reads every `/proc/<pid>/stat` (Linux); NaN elsewhere.
 */
export function treeCpuMicros(
  root: number,
  withRoot: boolean,
  exclude: ReadonlySet<number> = new Set(),
): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  let rootTicks = 0;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return Number.NaN;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid … utime (14th field) stime cutime cstime (17th).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    ticks.set(pid, Number(rest[11]) + Number(rest[12]));
    if (pid === root) rootTicks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
    const ppid = Number(rest[1]);
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  let total = withRoot ? rootTicks : 0;
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (exclude.has(pid)) continue;
    total += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return (total * 1e6) / USER_HZ;
}

/**
 * Time process `pid`'s main thread has spent runnable but waiting for a core so far, in µs (the
 * second field of `/proc/<pid>/schedstat`, kernel schedstats); NaN where it cannot be read. The
 * main thread is where a Node process runs all its JavaScript: this is how long it was ready to
 * work and the machine had no core for it.
 */
export function mainThreadWaitMicros(pid: number): number {
  try {
    const waitNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(waitNs) ? waitNs / 1000 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU per message of one measured stretch, in µs. */
export interface CpuPerMessage {
  /** This process (user + system, every thread: GC, LevelDB, workers). */
  self: number;
  /** This process's main thread alone (part of `self`). */
  main: number;
  /** The other process (the nats-server). */
  server: number;
}

/** Measures this process's and `serverPid`'s CPU time from construction to {@link perMessage}. */
export class CpuMeter {
  readonly #serverPid: number;
  readonly #self = process.cpuUsage();
  readonly #main = mainThreadCpuMicros();
  readonly #server: number;

  constructor(serverPid: number | undefined) {
    this.#serverPid = serverPid ?? -1;
    this.#server = processCpuMicros(this.#serverPid);
  }

  /** CPU per message since construction, for `messages` messages. */
  perMessage(messages: number): CpuPerMessage {
    const self = process.cpuUsage(this.#self);
    return {
      self: (self.user + self.system) / messages,
      main: (mainThreadCpuMicros() - this.#main) / messages,
      server: (processCpuMicros(this.#serverPid) - this.#server) / messages,
    };
  }
}
