// Settings that change what apply does are replicated (issue 10 item 2): three nodes started with three
// different --session-ttl flags end up with ONE value in force on every replica (the first seed to
// land), and `kvsctl settings set` changes it everywhere through the log. Bad values are refused and
// change nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminClient, type ClusterSettings } from '../../node/src/client/index.js';
import { raftIdOf, peersOf, ProcessCluster, collectLogsOnFailure, sleep } from '../helpers/cluster-process.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);
const TTLS = ['10m', '20m', '30m'];

describe('replicated settings (multi-process)', function () {
  this.timeout(60_000);
  let cluster: ProcessCluster;
  const admins: AdminClient[] = [];

  before(async function () {
    cluster = await ProcessCluster.start({
      size: 3,
      hostOf: (i) => `127.0.0.${50 + i}`,
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), '--session-ttl', TTLS[raftIdOf(self, all) - 1]!],
    });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    for (const a of admins) a.close();
    await cluster?.cleanup();
  });

  /** Every node's own view (Admin.Settings on that node), once all agree and are stored. */
  async function agreed(expectTtl?: number): Promise<ClusterSettings> {
    const per = cluster.addresses.map((a) => {
      const c = new AdminClient([a]);
      admins.push(c);
      return c;
    });
    let last: ClusterSettings[] = [];
    for (let i = 0; i < 100; i++) {
      try {
        last = await Promise.all(per.map((c) => c.settings()));
        const first = last[0]!;
        if (last.every((s) => s.stored && s.sessionTtlMs === first.sessionTtlMs) && (expectTtl === undefined || first.sessionTtlMs === expectTtl)) return first;
      } catch {
        /* not ready */
      }
      await sleep(100);
    }
    throw new Error(`settings never agreed: ${JSON.stringify(last)}`);
  }

  it('nodes with different --session-ttl flags agree on one replicated value', async function () {
    const s = await agreed();
    assert.ok([600_000, 1_200_000, 1_800_000].includes(s.sessionTtlMs), `one of the flags won: ${s.sessionTtlMs}`);
  });

  it('kvsctl settings set changes it on every replica; a bad value is refused and changes nothing', async function () {
    const eps = cluster.addresses.join(',');
    const out = (await run(process.execPath, [KVSCTL, '--endpoints', eps, 'settings', 'set', 'session-ttl', '45m'], { timeout: 20_000 })).stdout;
    assert.match(out, /session-ttl\t2700000 ms/);
    await agreed(2_700_000);
    await assert.rejects(run(process.execPath, [KVSCTL, '--endpoints', eps, 'settings', 'set', 'session-ttl', '5ms'], { timeout: 20_000 }), (e: { stderr?: string; code?: number }) => e.code === 1 && /sessionTtlMs must be an integer in \[1000/.test(e.stderr ?? ''));
    await assert.rejects(run(process.execPath, [KVSCTL, '--endpoints', eps, 'settings', 'set', 'colour', 'blue'], { timeout: 20_000 }), (e: { code?: number }) => e.code === 2);
    // 0 cannot cross the wire (proto3 "not set"): it used to read back the old value with exit 0.
    for (const [name, value] of [['session-ttl', '0s'], ['max-results-per-session', '0']]) {
      await assert.rejects(run(process.execPath, [KVSCTL, '--endpoints', eps, 'settings', 'set', name!, value!], { timeout: 20_000 }), (e: { stderr?: string; code?: number }) => e.code === 1 && /must be a positive integer, got 0; nothing was changed/.test(e.stderr ?? ''), `${name} ${value}`);
    }
    const json = JSON.parse((await run(process.execPath, [KVSCTL, '--endpoints', eps, '--json', 'settings', 'get'], { timeout: 20_000 })).stdout) as ClusterSettings;
    assert.equal(json.sessionTtlMs, 2_700_000);
  });
});
