// Leader-lease time arithmetic (pure: the host passes a monotonic clock in, or time is the tick count).
//
// The promise a lease rests on: a voter that acknowledged a heartbeat of leader L refuses votes — and does
// not campaign — until `voteHold` has passed on ITS clock since it received one (and for `voteHold` after
// it started: a restarted voter forgot whom it acknowledged). L stamps each heartbeat with its own clock
// when it builds it (never later than the real send); followers echo the stamp. If a quorum echoed stamps
// ≥ S, every voter of that quorum is holding its vote from some receive time r ≥ S on. A rival must win a
// vote of a quorum that intersects it, so no new leader exists before (on that voter's clock) r + voteHold.
// L may therefore serve reads while its own clock says now − S < duration, where duration shrinks
// voteHold by the maximum clock-rate drift between two nodes and by one clock granule on each side
// (a tick clock lags real time by up to one tick; a follower's first tick after receiving may come at once).
// See docs/raft.md "Reads" for the whole argument (check-quorum, pre-vote, transfers).
import { ConfigError } from './errors.js';

export interface LeaseClockConfig {
  /**
   * Monotonic time, integer units (kvs: microseconds of CLOCK_MONOTONIC). It must keep running while the
   * process is stopped (SIGSTOP, a VM pause) — a paused leader must find its lease expired on resume —
   * and must be read fresh on every call: a cached value would let a resumed leader believe no time passed.
   */
  now: () => number;
  /** Clock units per tick() at the nominal tick rate (kvs: --raft-tick in µs). */
  tickInterval: number;
  /**
   * Bound on the rate difference between any two nodes' clocks: over any interval, one clock advances at
   * least (1 − maxClockDrift) times what another advances. In [0, 0.5]; default 0.1 (see docs/raft.md).
   */
  maxClockDrift?: number;
  /**
   * This instance was created for a group this node never belonged to (the new range of a split): it has
   * acknowledged nothing in it, so it needs no start-up vote hold (a split's first election stays one round
   * trip). Never for a restart: the hold is what covers acknowledgements forgotten in a crash.
   */
  newGroup?: boolean;
  /** TEST ONLY, UNSAFE: a lease, once acknowledged by a quorum, never expires (negative control). */
  unsafeNoExpiry?: boolean;
}

export const DEFAULT_MAX_CLOCK_DRIFT = 0.1;

export class LeaseClock {
  /** On a follower's clock: how long after the last leader contact (or its start) it refuses votes. */
  readonly voteHold: number;
  /** On the leader's clock: how long after the send stamp of a quorum-acknowledged heartbeat it may serve reads. */
  readonly duration: number;
  readonly maxClockDrift: number;
  readonly unsafeNoExpiry: boolean;
  /** The clock's value when this Raft instance was created (start of the restart vote hold; none for a new group). */
  readonly startedAt: number;
  private readonly clock: () => number;

  /** Without `cfg` time is the tick count (`ticks`): safe only if every node ticks at the same rate. */
  constructor(electionTick: number, ticks: () => number, cfg?: LeaseClockConfig) {
    const drift = cfg?.maxClockDrift ?? DEFAULT_MAX_CLOCK_DRIFT;
    if (!(drift >= 0 && drift <= 0.5)) throw new ConfigError(`maxClockDrift must be in [0, 0.5] (got ${drift})`);
    if (cfg && !(Number.isSafeInteger(cfg.tickInterval) && cfg.tickInterval > 0)) {
      throw new ConfigError(`lease tickInterval must be a positive integer number of clock units (got ${cfg.tickInterval})`);
    }
    this.clock = cfg ? cfg.now : ticks;
    this.voteHold = electionTick * (cfg ? cfg.tickInterval : 1);
    // One clock granule (1 tick of a tick clock, 1 unit of an injected one) on each side: a follower
    // holds ≥ voteHold − 1 units of real time on its clock (its reading lags by < 1 unit; with ticks, its
    // first tick after the contact may come at once), which is ≥ (voteHold − 1)(1 − drift) on ours; and
    // our own reading lags real time by < 1 unit.
    this.duration = (this.voteHold - 1) * (1 - drift) - 1;
    if (!(this.duration > 0)) throw new ConfigError(`the leader lease would be empty (election ${electionTick} ticks, drift ${drift})`);
    this.maxClockDrift = drift;
    this.unsafeNoExpiry = cfg?.unsafeNoExpiry === true;
    this.startedAt = cfg?.newGroup === true ? Number.MIN_SAFE_INTEGER : this.clock();
  }

  now(): number {
    return this.clock();
  }

  /** True while a voter that last heard from a leader at `contactAt` must not grant or seek votes. */
  holdsVote(contactAt: number, now = this.clock()): boolean {
    return now - contactAt < this.voteHold || now - this.startedAt < this.voteHold;
  }

  /** True while a lease resting on heartbeats sent at `start` (quorum-acknowledged) holds at `now`. */
  valid(start: number, now = this.clock()): boolean {
    if (start === Number.MIN_SAFE_INTEGER) return false; // no quorum acknowledged anything this term
    if (this.unsafeNoExpiry) return true;
    return now - start < this.duration;
  }
}

/**
 * The send stamp a leader puts in an append's context (and its follower echoes in the answer), so that
 * acknowledged appends renew the lease as acknowledged heartbeats do: the follower took the append as
 * leader contact (raft.ts handleAppendEntries) no earlier than the stamp. 8 bytes, big-endian.
 */
export function encodeLeaseStamp(t: number): Uint8Array {
  if (!Number.isSafeInteger(t) || t < 0) return new Uint8Array(0);
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, Math.floor(t / 2 ** 32));
  v.setUint32(4, t >>> 0);
  return b;
}

/** The stamp in an append answer's context, or undefined (none: an older node, or not a lease group). */
export function decodeLeaseStamp(ctx: Uint8Array): number | undefined {
  if (ctx.length !== 8) return undefined;
  const v = new DataView(ctx.buffer, ctx.byteOffset, 8);
  return v.getUint32(0) * 2 ** 32 + v.getUint32(4);
}
