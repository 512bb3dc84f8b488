// CPU time of a process or one of its threads from /proc: utime + stime in µs (USER_HZ 100), or
// undefined off Linux or once it is gone. The benchmarks' per-store CPU counts read it.
import { readFileSync } from 'node:fs';

function statCpuUs(path: string): number | undefined {
  try {
    const f = readFileSync(path, 'utf8');
    // The command name (field 2) may hold spaces or parentheses: the fields after it follow the last ')'.
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** utime + stime in µs of process `pid` (all its threads). One argument: safe to pass to `map`. */
export function cpuUs(pid: number): number | undefined {
  return statCpuUs(`/proc/${pid}/stat`);
}

/** utime + stime in µs of thread `tid` of process `pid` (its main thread's tid is the pid). */
export function threadCpuUs(pid: number, tid: number): number | undefined {
  return statCpuUs(`/proc/${pid}/task/${tid}/stat`);
}
