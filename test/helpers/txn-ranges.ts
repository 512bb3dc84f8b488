// Ranges of a cross-range transaction in one process, for coordinator tests (raftstore/txn-coordinator.ts,
// batch-commit.ts): each range a real state machine behind TxnSteps, on one clock; each command applies
// alone (one Raft entry). Hooks make a range slow (a held Raft round) or failing (a leader change).
import { MemoryEngine } from '../../node/src/engine/memory-engine.js';
import type { Command, CommandResult } from '../../node/src/kv/commands.js';
import { StateMachine } from '../../node/src/kv/state-machine.js';
import { TxnSteps } from '../../node/src/kv/txn-steps.js';
import { NotLeaderError } from '../../node/src/kv/errors.js';
import { mvccGet } from '../../node/src/mvcc/mvcc.js';
import type { Mutation, Session } from '../../node/src/kv/api.js';
import { LockResolver } from '../../node/src/raftstore/lock-resolver.js';
import type { TxnPart } from '../../node/src/raftstore/txn-coordinator.js';

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
export const put = (k: string, v: string): Mutation => ({ op: 'put', key: b(k), value: b(v) });

export interface Range {
  start: string;
  engine: MemoryEngine;
  sm: StateMachine;
  steps: TxnSteps;
  applied: Command['type'][];
  /** Commands after the first `holdFrom` wait for `gate` (a slow Raft round). */
  holdFrom?: number;
  gate?: Promise<void>;
  /** Commands of these types fail without applying (a leader change, say). */
  failing?: Set<Command['type']>;
}

/** Three ranges [''..'m'), ['m'..'t'), ['t'..) on one clock; each command applies alone (one Raft entry). */
export async function cluster(): Promise<{ ranges: Range[]; resolver: LockResolver; clock: { now: number }; storeFor: (k: Buffer) => Range }> {
  const clock = { now: 1000 };
  const ranges: Range[] = [];
  for (const start of ['', 'm', 't']) {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine);
    const r: Range = { start, engine, sm, applied: [], steps: undefined as never };
    r.steps = new TxnSteps(ranges.length + 1, async (cmd: Command): Promise<CommandResult> => {
      if (r.holdFrom !== undefined && r.applied.length >= r.holdFrom) await r.gate;
      if (r.failing?.has(cmd.type)) throw new NotLeaderError(0, undefined, 'not the leader (test)');
      r.applied.push(cmd.type);
      return (await sm.applyAndWrite([cmd])).results[0]!;
    }, () => clock.now++);
    ranges.push(r);
  }
  const storeFor = (k: Buffer): Range => [...ranges].reverse().find((r) => Buffer.compare(k, b(r.start)) >= 0)!;
  const resolver = new LockResolver({ storeFor: (k) => Promise.resolve(storeFor(k).steps), nowTs: () => clock.now });
  return { ranges, resolver, clock, storeFor };
}

export function parts(ranges: Range[], writes: Mutation[][]): TxnPart[] {
  return writes.map((w, i) => ({ store: ranges[i]!.steps, local: true, readKeys: [], readRanges: [], writes: w }));
}

export async function value(r: Range, k: string): Promise<string | undefined> {
  return (await mvccGet(r.engine, b(k), Number.MAX_SAFE_INTEGER))?.value.toString();
}

export const session = (seq: number): Session => ({ clientId: 'c', seq, firstUnacked: seq });
