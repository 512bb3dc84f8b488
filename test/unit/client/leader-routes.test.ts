import assert from 'node:assert/strict';
import { LeaderRoutes } from '../../../node/src/client/leader-routes.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('client: leader routes (Kv.Routes table)', () => {
  it('finds the leader of the range holding a key; gaps and unknown leaders give none', () => {
    const t = new LeaderRoutes();
    assert.equal(t.leaderFor(b('a')), undefined);
    t.update(
      [
        { start: b('m'), end: b('t'), leaderAddress: 'n2:1', version: 2 },
        { start: b(''), end: b('g'), leaderAddress: 'n1:1', version: 2 },
        { start: b('t'), end: b(''), leaderAddress: '', version: 3 },
      ],
      1000,
    );
    assert.equal(t.leaderFor(b('a')), 'n1:1');
    assert.equal(t.leaderFor(b('')), 'n1:1');
    assert.equal(t.leaderFor(b('g')), undefined, 'a gap (range not held by the answering store)');
    assert.equal(t.leaderFor(b('m')), 'n2:1');
    assert.equal(t.leaderFor(b('s\xff')), 'n2:1');
    assert.equal(t.leaderFor(b('zzz')), undefined, 'leader unknown');
  });

  it('refreshes when empty, stale or old — never more often than the minimum interval', () => {
    const t = new LeaderRoutes();
    assert.equal(t.needsRefresh(1000, 10_000, 500), true, 'empty');
    t.update([{ start: b(''), end: b(''), leaderAddress: 'n1:1', version: 0 }], 1000);
    assert.equal(t.needsRefresh(1200, 10_000, 500), false);
    t.markStale(1300);
    assert.equal(t.needsRefresh(1400, 10_000, 500), false, 'rate-limited');
    assert.equal(t.needsRefresh(1600, 10_000, 500), true, 'stale');
    t.update([{ start: b(''), end: b(''), leaderAddress: 'n2:1', version: 0 }], 1700);
    assert.equal(t.needsRefresh(5000, 10_000, 500), false);
    assert.equal(t.needsRefresh(12_000, 10_000, 500), true, 'old');
  });
});
