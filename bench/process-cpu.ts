/**
 * A server process's CPU time, for the benches' µs-per-request column: on a
 * machine other work loads, CPU per request moves less than requests/s.
 */
import { readFileSync } from 'node:fs';

/** User + system CPU time of a process so far, µs (from /proc; null where there is none). */
export function cpuMicros(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of stat), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
