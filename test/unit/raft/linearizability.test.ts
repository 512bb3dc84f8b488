// The simulator's WGL linearizability checker must accept linearizable histories and reject
// non-linearizable ones (otherwise the simulation proves nothing).
import { strict as assert } from 'node:assert';
import { checkHistory, checkRegister, type HistoryOp } from '../../sim/linearizability.js';
import type { KvOp, OpResult } from '../../sim/kv.js';

let nextId = 0;
function op(client: number, o: KvOp, call: number, ret: number, result?: OpResult): HistoryOp {
  return { id: nextId++, client, op: o, call, ret, result };
}
const put = (c: number, v: number, call: number, ret: number): HistoryOp => op(c, { kind: 'put', key: 'k', value: v }, call, ret, { kind: 'put' });
const get = (c: number, v: number | null, call: number, ret: number): HistoryOp => op(c, { kind: 'get', key: 'k' }, call, ret, { kind: 'get', value: v });
const cas = (c: number, e: number | null, v: number, ok: boolean | undefined, call: number, ret: number): HistoryOp =>
  op(c, { kind: 'cas', key: 'k', expect: e, value: v }, call, ret, ok === undefined ? undefined : { kind: 'cas', ok });

describe('sim linearizability checker (WGL)', () => {
  it('accepts sequential histories', () => {
    assert.equal(checkRegister([put(1, 1, 0, 1), get(1, 1, 2, 3), cas(1, 1, 2, true, 4, 5), get(2, 2, 6, 7)]).ok, true);
  });

  it('rejects a stale read after a completed write', () => {
    assert.equal(checkRegister([put(1, 1, 0, 1), get(2, null, 2, 3)]).ok, false);
  });

  it('accepts reads of either value while a write is concurrent', () => {
    assert.equal(checkRegister([put(1, 1, 0, 10), get(2, null, 1, 2), get(2, 1, 3, 4)]).ok, true);
    assert.equal(checkRegister([put(1, 1, 0, 10), get(2, 1, 1, 2), get(3, null, 3, 4)]).ok, false, 'value cannot go back');
  });

  it('an indeterminate write (no response) may or may not take effect', () => {
    assert.equal(checkRegister([put(1, 1, 0, Infinity), get(2, null, 5, 6)]).ok, true);
    assert.equal(checkRegister([put(1, 1, 0, Infinity), get(2, 1, 5, 6)]).ok, true);
    assert.equal(checkRegister([put(1, 1, 0, Infinity), get(2, 1, 5, 6), get(2, null, 7, 8)]).ok, false);
  });

  it('cas results must match the state', () => {
    assert.equal(checkRegister([put(1, 1, 0, 1), cas(2, 1, 5, false, 2, 3)]).ok, false);
    assert.equal(checkRegister([put(1, 1, 0, 1), cas(2, 7, 5, false, 2, 3), get(1, 1, 4, 5)]).ok, true);
    assert.equal(checkRegister([cas(2, null, 5, undefined, 0, Infinity), get(1, 5, 4, 5)]).ok, true);
  });

  it('rejects a lost acknowledged write (classic split-brain symptom)', () => {
    // put 1 acknowledged, then put 2 acknowledged, then a read returns 1.
    assert.equal(checkRegister([put(1, 1, 0, 1), put(2, 2, 2, 3), get(3, 1, 4, 5)]).ok, false);
  });

  it('checks keys independently and reports the failing key', () => {
    const a = op(1, { kind: 'put', key: 'a', value: 1 }, 0, 1, { kind: 'put' });
    const b = op(2, { kind: 'get', key: 'b' }, 2, 3, { kind: 'get', value: 9 });
    const r = checkHistory([a, b]);
    assert.equal(r.ok, false);
    assert.equal(r.key, 'b');
  });

  it('handles a few hundred concurrent operations quickly', () => {
    const h: HistoryOp[] = [];
    let t = 0;
    for (let i = 1; i <= 300; i++) {
      // Overlapping writes and reads that observe the latest completed write.
      h.push(put(i % 4, i, t, t + 3));
      h.push(get((i + 1) % 4, i, t + 3, t + 4));
      t += 2;
    }
    const r = checkRegister(h);
    assert.equal(r.ok, true);
    assert.equal(r.timedOut, false);
  });
});
