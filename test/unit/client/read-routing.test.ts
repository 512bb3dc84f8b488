import assert from 'node:assert/strict';
import { KvClient } from '../../../node/src/client/kv-client.js';
import { KvInvalidArgumentError } from '../../../node/src/client/errors.js';
import { DEFAULT_READ_LEADER_SLACK, LONE_READS_IN_FLIGHT, readGoesToLeader, validReadLeaderSlack, type ReadRoutingInput } from '../../../node/src/client/read-routing.js';

const loads =
  (m: Record<string, number>) =>
  (e: string): number =>
    m[e] ?? 0;

const at = (over: Partial<ReadRoutingInput>): ReadRoutingInput => ({ inFlight: 20, leader: 'L', preferred: 'F', load: loads({}), slack: 8, ...over });

describe('client: read routing (load-based leader reads)', () => {
  it('a lone read goes to the leader whatever the slack; an unknown leader sends it to the preferred node', () => {
    for (const slack of [0, 8]) {
      assert.equal(readGoesToLeader(at({ inFlight: LONE_READS_IN_FLIGHT, slack, load: loads({ L: 100 }) })), true, `slack ${slack}`);
      assert.equal(readGoesToLeader(at({ inFlight: 0, leader: undefined, slack })), false);
    }
  });

  it('under load the leader serves reads until its node has more than `slack` of this client\'s requests beyond the preferred node', () => {
    assert.equal(readGoesToLeader(at({ load: loads({ L: 10, F: 2 }) })), true); // 10 <= 2 + 8
    assert.equal(readGoesToLeader(at({ load: loads({ L: 11, F: 2 }) })), false);
    assert.equal(readGoesToLeader(at({ load: loads({ L: 11, F: 2 }), slack: Infinity })), true);
    assert.equal(readGoesToLeader(at({ load: loads({ L: 1, F: 0 }), slack: 0 })), false);
    assert.equal(readGoesToLeader(at({ load: loads({ L: 0, F: 0 }), slack: 0 })), true);
  });

  it('by default every read goes to the leader, however busy its node', () => {
    assert.equal(DEFAULT_READ_LEADER_SLACK, Infinity);
    assert.equal(readGoesToLeader(at({ slack: DEFAULT_READ_LEADER_SLACK, load: loads({ L: 10_000, F: 0 }) })), true);
  });

  it('the preferred node being the leader is the leader', () => {
    assert.equal(readGoesToLeader(at({ preferred: 'L', load: loads({ L: 1000 }), slack: 0 })), true);
  });

  it('validates the option; the client refuses a bad one with a clear error', () => {
    for (const ok of [0, 8, Infinity]) assert.equal(validReadLeaderSlack(ok), true, String(ok));
    for (const bad of [-1, 1.5, NaN, -Infinity, 'leader', '8', null]) assert.equal(validReadLeaderSlack(bad), false, String(bad));
    assert.throws(() => new KvClient({ endpoints: '127.0.0.1:1', readLeaderSlack: -1 }), (e: unknown) => e instanceof KvInvalidArgumentError && /readLeaderSlack/.test(e.message));
    new KvClient({ endpoints: '127.0.0.1:1', readLeaderSlack: 0 }).close();
  });
});
