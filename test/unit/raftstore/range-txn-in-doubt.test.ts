// A transaction commit whose outcome was lost (the proposal applied, the reply did not come back) and
// that the client retries with the same session, through the multi-range KvStore: the retry must reach
// the one-range commit that resolves it through the log — answered "committed", applied once. (The
// nemesis found a version of the range router that asked the in-doubt transaction for its write set
// first, got TXN_NOT_FOUND, and the client helper re-ran the body: a duplicate increment.)
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import type { Command, CommandResult } from '../../../node/src/kv/commands.js';
import type { CommandSink } from '../../../node/src/kv/commit-pipeline.js';
import { OutcomeUnknownError } from '../../../node/src/kv/errors.js';
import { LocalStore } from '../../../node/src/kv/local-store.js';
import type { StateMachine } from '../../../node/src/kv/state-machine.js';
import { RangeKvStore } from '../../../node/src/raftstore/range-kv-store.js';

const b = (s: string): Buffer => Buffer.from(s);

/** Applies every command at once; loses the reply of the next txnCommit when asked to. */
class LossySink implements CommandSink {
  loseNextCommitReply = false;
  constructor(private readonly sm: StateMachine, private readonly onApplied: (ts: number) => void) {}
  async submit(cmd: Command): Promise<CommandResult> {
    const r = (await this.sm.applyAndWrite([cmd])).results[0]!;
    this.onApplied(this.sm.lastTs);
    if (cmd.type === 'txnCommit' && this.loseNextCommitReply) {
      this.loseNextCommitReply = false;
      throw new OutcomeUnknownError(0, undefined, 'leadership changed (outcome unknown)');
    }
    return r;
  }
  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async close(): Promise<void> {}
}

describe('multi-range KvStore: a commit in doubt, retried with its session', () => {
  it('is answered committed and applied once (the body is not re-run)', async () => {
    let sink: LossySink | undefined;
    const store = await LocalStore.open({
      engine: new MemoryEngine(),
      gcIntervalMs: 0,
      commandSink: (sm, _engine, onApplied) => (sink = new LossySink(sm, onApplied)),
    });
    const view = { rangeId: 1, store };
    const kv = new RangeKvStore({ sorted: () => [view], get: (id) => (id === 1 ? view : undefined), settled: async () => undefined });
    try {
      await kv.put(b('ctr'), b('0'));
      const t = await kv.begin();
      const v = Number((await kv.get(b('ctr'), { txnId: t.txnId })).value!.toString());
      await kv.put(b('ctr'), b(String(v + 1)), { txnId: t.txnId });
      const session = { clientId: 'client-1', seq: 7, firstUnacked: 7 };
      sink!.loseNextCommitReply = true;
      await assert.rejects(kv.commit(t.txnId, { session }), OutcomeUnknownError);
      // The retry (same session): resolved through the log, not "transaction not found".
      const r = await kv.commit(t.txnId, { session });
      assert.ok(r.commitTs > 0);
      assert.equal((await kv.get(b('ctr'))).value?.toString(), '1', 'applied once');
    } finally {
      await kv.close();
      await store.close();
    }
  });
});
