// The timestamp oracle (stage 2; docs/sharding.md "Meta range and timestamps"), PD's design
// (tikv/pd pkg/tso/tso.go): the leader of the meta range serves timestamps from memory inside a window
// whose upper bound it persisted through Raft BEFORE serving from it; a new leader starts above the
// persisted bound. So timestamps are strictly increasing across leader changes and crashes, whatever the
// wall clocks do, and a persist costs one Raft round per window, not per timestamp.
//
// Encoding as the store's versions: physicalMs << 10 | logical (< 2^53). Pure logic: the wall clock and
// the persistence (a Raft proposal in the node) are injected.

/** Logical counter bits, as kv/state-machine TS_PER_MS. */
export const LOGICAL_BITS = 10;
const PER_MS = 1 << LOGICAL_BITS;

export interface TsoDeps {
  /** Wall clock, ms. */
  nowMs(): number;
  /** Durably records that no timestamp with physical part >= `highWaterMs` has been handed out (through Raft). */
  persist(highWaterMs: number): Promise<void>;
}

export interface TsoOptions {
  /** Window persisted ahead of the clock (PD: 3 s). */
  windowMs?: number;
  /** Largest batch one request may take (PD clients batch concurrent GetTS calls into one). */
  maxBatch?: number;
}

export class TsoError extends Error {
  override readonly name = 'TsoError';
  constructor(readonly code: 'TSO_NOT_STARTED' | 'TSO_INVALID_ARGUMENT', message: string) {
    super(message);
  }
}

export class TimestampOracle {
  private physical = 0;
  private logical = 0;
  /** Persisted bound: every handed-out timestamp has physical < highWater. */
  private highWater = 0;
  private started = false;
  private persisting: Promise<void> | undefined;
  private readonly windowMs: number;
  private readonly maxBatch: number;

  /** `persistedHighWaterMs`: the bound the previous leader persisted (0 for a new cluster). */
  constructor(private readonly deps: TsoDeps, private readonly persistedHighWaterMs: number, opts: TsoOptions = {}) {
    this.windowMs = opts.windowMs ?? 3000;
    this.maxBatch = opts.maxBatch ?? PER_MS;
    if (this.maxBatch > PER_MS) throw new TsoError('TSO_INVALID_ARGUMENT', `maxBatch must be <= ${PER_MS}`);
  }

  /** A new leader: start strictly above everything the previous leaders may have handed out. */
  async start(): Promise<void> {
    this.physical = Math.max(Math.floor(this.deps.nowMs()), this.persistedHighWaterMs + 1);
    this.logical = 0;
    await this.extend(this.physical + this.windowMs);
    this.started = true;
  }

  /** The persisted high-water mark (ms). */
  get persistedBound(): number {
    return this.highWater;
  }

  private async extend(to: number): Promise<void> {
    while (this.highWater < to) {
      if (this.persisting === undefined) {
        const target = to;
        this.persisting = this.deps.persist(target).then(
          () => {
            this.highWater = Math.max(this.highWater, target);
            this.persisting = undefined;
          },
          (e: unknown) => {
            this.persisting = undefined;
            throw e;
          },
        );
      }
      await this.persisting;
    }
  }

  /**
   * `count` consecutive timestamps; returns the first (the batch is [first, first + count)). Strictly
   * greater than any timestamp handed out before by this or any earlier leader.
   */
  async next(count = 1): Promise<number> {
    if (!this.started) throw new TsoError('TSO_NOT_STARTED', 'the timestamp oracle is not started (not the meta range leader)');
    if (!Number.isSafeInteger(count) || count < 1 || count > this.maxBatch) throw new TsoError('TSO_INVALID_ARGUMENT', `count must be in [1, ${this.maxBatch}]`);
    for (;;) {
      // Follow the wall clock forward (never back: a clock jump backwards only slows physical time).
      const now = Math.floor(this.deps.nowMs());
      if (now > this.physical) {
        this.physical = now;
        this.logical = 0;
      }
      if (this.logical + count > PER_MS) {
        // Logical space of this millisecond used up: borrow the next one.
        this.physical++;
        this.logical = 0;
      }
      if (this.physical >= this.highWater) {
        await this.extend(this.physical + this.windowMs);
        continue; // the clock may have moved meanwhile
      }
      const first = this.physical * PER_MS + this.logical;
      this.logical += count;
      return first;
    }
  }
}
