// How a replica confirms linearizable reads: from the leader's lease by default (the raft core's
// ReadOnlyOption.LeaseBased, measured on CLOCK_MONOTONIC), or a ReadIndex heartbeat round per read batch
// with --lease-read=false. The argument that makes the lease safe is in docs/raft.md ("Reads").
import { ReadOnlyOption, type RaftConfig } from '../raft/index.js';

export interface LeaseTuning {
  /**
   * Largest rate difference between two nodes' monotonic clocks the lease tolerates (fraction, [0, 0.5]);
   * the lease is the election timeout shortened by it. Default 0.1 (raft/lease.ts DEFAULT_MAX_CLOCK_DRIFT).
   */
  maxClockDrift?: number;
  /** TEST ONLY, UNSAFE (KVS_TEST_UNSAFE_LEASE_NO_EXPIRY): the lease never expires — the negative control. */
  unsafeNoExpiry?: boolean;
  /** The replica was just created by a split (raft/lease.ts `newGroup`): no start-up vote hold. */
  newGroup?: boolean;
}

/**
 * Microseconds of CLOCK_MONOTONIC (process.hrtime): never steps with the wall clock (NTP steps, the
 * Jepsen clock fault), keeps running while the process is stopped (SIGSTOP, a paused VM — a leader that
 * resumes finds its lease expired), is read fresh on every call. NTP slews its rate by ≤ 500 ppm.
 */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The raft config fragment for a peer ticking every `tickMs` (leases on unless `leaseRead === false`). */
export function readModeConfig(leaseRead: boolean | undefined, tickMs: number, tuning: LeaseTuning = {}): Pick<RaftConfig, 'readOnlyOption' | 'leaseClock'> {
  if (leaseRead === false) return { readOnlyOption: ReadOnlyOption.Safe };
  return {
    readOnlyOption: ReadOnlyOption.LeaseBased,
    leaseClock: {
      now: monotonicMicros,
      tickInterval: Math.max(1, Math.round(tickMs * 1000)),
      maxClockDrift: tuning.maxClockDrift,
      unsafeNoExpiry: tuning.unsafeNoExpiry === true,
      newGroup: tuning.newGroup === true,
    },
  };
}
