// Records the history of concurrent clients' operations for the porcupine checker (test/porcupine).
// Times are nanoseconds since the recorder was created (monotonic clock). An operation whose outcome the
// client never learned (timeout, lost connection, ...) is recorded with `return: null` and
// `output.unknown`: the checker treats it as pending forever (it may take effect at any point after
// its call, or never). Reads that failed carry no information and are dropped.
import { writeFileSync } from 'node:fs';

export type HistoryInput =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  /** A delete that does not report whether the key existed: one key of a DeleteRange. */
  | { op: 'clear'; key: string }
  | { op: 'cas'; key: string; value: string; expected?: string; expectAbsent?: boolean };

export interface HistoryOutput {
  value?: string;
  found?: boolean;
  ok?: boolean;
  unknown?: boolean;
}

export interface HistoryOp {
  clientId: number;
  input: HistoryInput;
  output: HistoryOutput;
  call: number;
  return: number | null;
}

export interface RecordOptions {
  /**
   * Errors for which the operation certainly did not take effect (e.g. INVALID_ARGUMENT): such
   * operations are dropped from the history. Every other error makes the outcome unknown.
   */
  definitelyFailed?: (err: unknown) => boolean;
}

export class HistoryRecorder {
  private readonly t0 = process.hrtime.bigint();
  readonly ops: HistoryOp[] = [];
  /** Counts by outcome, for assertions and messages. */
  readonly counts = { ok: 0, unknown: 0, failed: 0, droppedReads: 0 };

  constructor(private readonly defaults: RecordOptions = {}) {}

  now(): number {
    return Number(process.hrtime.bigint() - this.t0);
  }

  /**
   * Runs `fn` (the real call) and records it. Resolves with the output, or undefined when the call
   * failed (the error is swallowed: histories are about what clients observed).
   */
  async record(clientId: number, input: HistoryInput, fn: () => Promise<HistoryOutput>, opts: RecordOptions = {}): Promise<HistoryOutput | undefined> {
    return this.recordMany(clientId, [input], fn, opts);
  }

  /**
   * One call that writes several keys at once (a Batch): recorded as one operation per key with the same
   * call and return times and the same outcome — each key's history sees a write within that window.
   * (Atomicity across the keys is not what the register model checks; a write applied twice, or
   * applied although the call answered "not applied", is.)
   */
  async recordMany(clientId: number, inputs: readonly HistoryInput[], fn: () => Promise<HistoryOutput>, opts: RecordOptions = {}): Promise<HistoryOutput | undefined> {
    const call = this.now();
    try {
      const output = await fn();
      const ret = this.now();
      for (const input of inputs) this.ops.push({ clientId, input, output, call, return: ret });
      this.counts.ok++;
      return output;
    } catch (err) {
      const definitelyFailed = opts.definitelyFailed ?? this.defaults.definitelyFailed;
      if (inputs.every((i) => i.op === 'get')) {
        this.counts.droppedReads++;
      } else if (definitelyFailed?.(err)) {
        this.counts.failed++;
      } else {
        for (const input of inputs) this.ops.push({ clientId, input, output: { unknown: true }, call, return: null });
        this.counts.unknown++;
      }
      return undefined;
    }
  }

  toJSON(): HistoryOp[] {
    return this.ops;
  }

  writeFile(path: string): void {
    writeFileSync(path, JSON.stringify(this.ops));
  }
}
