// The register workload's "no lost acknowledged write" check, with deletes (a DeleteRange's `clear` of
// each register): the final state must come from a write that may be linearized last.
import { strict as assert } from 'node:assert';
import { lostWrites } from '../../jepsen/workload-register.js';
import type { HistoryOp } from '../../helpers/history-recorder.js';

const put = (value: string, call: number, ret: number | null): HistoryOp => ({ clientId: 1, input: { op: 'put', key: 'k', value }, output: ret === null ? { unknown: true } : { ok: true }, call, return: ret });
const clear = (call: number, ret: number | null): HistoryOp => ({ clientId: 2, input: { op: 'clear', key: 'k' }, output: ret === null ? { unknown: true } : { ok: true }, call, return: ret });

describe('jepsen register: lost acknowledged writes', () => {
  it('a final value from the last write, or absent after a delete that may be last, is fine', () => {
    assert.deepEqual(lostWrites([put('a', 0, 1), put('b', 2, 3)], new Map([['k', 'b']])), []);
    assert.deepEqual(lostWrites([put('a', 0, 1), clear(2, 3)], new Map([['k', undefined]])), []);
    // Concurrent with the last put: either may be last.
    assert.deepEqual(lostWrites([clear(0, 5), put('a', 1, 2)], new Map([['k', undefined]])), []);
    // A delete whose outcome is unknown may apply at any time after its call.
    assert.deepEqual(lostWrites([clear(0, null), put('a', 1, 2)], new Map([['k', undefined]])), []);
  });

  it('absent although an acknowledged write began after every delete returned: lost (a delete applied again)', () => {
    const p = lostWrites([put('a', 0, 1), clear(2, 3), put('b', 4, 5)], new Map([['k', undefined]]));
    assert.equal(p.length, 1);
    assert.match(p[0]!, /^lost write: k is absent, but 1 acknowledged write\(s\) of k began after its last delete returned/);
    assert.match(lostWrites([put('a', 0, 1)], new Map([['k', undefined]]))[0]!, /absent after 1 acknowledged writes/);
    // Several deletes: counted from the last one to return.
    assert.match(lostWrites([put('a', 0, 1), clear(2, 3), put('b', 4, 5), clear(6, 7), put('c', 8, 9)], new Map([['k', undefined]]))[0]!, /but 1 acknowledged write\(s\) of k began after its last delete returned, e\.g\. .*"c"/);
  });

  it('a final value overwritten by a later acknowledged delete, or one nobody wrote: reported', () => {
    assert.match(lostWrites([put('a', 0, 1), clear(2, 3)], new Map([['k', 'a']]))[0]!, /^lost write: k = a/);
    assert.match(lostWrites([put('a', 0, 1)], new Map([['k', 'z']]))[0]!, /a value no client wrote/);
  });
});
