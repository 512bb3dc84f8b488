// A store that crashes in the middle of a split (issue 12: "a crash in the middle of a split (before/after
// the split command applies on each replica)"), on real processes. The failpoint KVS_TEST_CRASH_AT_SPLIT
// SIGKILLs one store at the split's apply: before its apply batch is written (the split is committed in
// the log but not applied: the restart replays it) or after it (both halves' state is in the engine but
// the right half's replica never opened: the restart opens it from the engine). The follower case and the
// leader case (the store that proposed the split) each run; after the restart the store holds both
// halves with the split's epoch, serves every key written before and after, and writes go on.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { ProcessCluster, collectLogsOnFailure, startRaftCluster, until } from '../helpers/cluster-process.js';

const b = (s: string) => Buffer.from(s);
const KEYS = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);

describe('a store killed in the middle of a split recovers both halves (multi-process)', function () {
  this.timeout(240_000);
  let cluster: ProcessCluster | undefined;
  let dir = '';
  const clients: Array<KvClient | AdminClient> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-split-crash-'));
  });
  afterEach(async function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
    for (const c of clients.splice(0)) c.close();
    await cluster?.cleanup();
    cluster = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Raft id (1-based) of the current leader of the range holding `key`, from store 1's view. */
  async function leaderOf(admin: AdminClient, key: string): Promise<number> {
    return until(`a leader for ${key}`, async () => {
      const rs = (await admin.ranges(cluster!.addresses[0]!)).ranges;
      const r = rs.find((x) => Buffer.compare(x.start, b(key)) <= 0 && (x.end.length === 0 || Buffer.compare(b(key), x.end) < 0));
      return r && Number(r.leaderId) > 0 ? Number(r.leaderId) : undefined;
    });
  }

  for (const at of ['before-apply', 'after-apply'] as const) {
    for (const who of ['follower', 'leader'] as const) {
      it(`${who} killed ${at === 'before-apply' ? 'before' : 'after'} the split's apply batch is written`, async function () {
        const marker = join(dir, 'crashed');
        // The failpoint names the raft id that dies; which id that is depends on who leads: start, look, restart with it.
        cluster = await startRaftCluster(220);
        const admin0 = new AdminClient(cluster.addresses, 10_000);
        clients.push(admin0);
        const w = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
        clients.push(w);
        for (const k of KEYS.slice(0, 20)) await w.put(k, `v1-${k}`);
        const leader = await leaderOf(admin0, 'k20');
        const victim = who === 'leader' ? leader : [1, 2, 3].find((id) => id !== leader)!;
        const node = cluster.node(victim - 1);
        // Restart the victim with the failpoint armed (the others keep running: the group stays whole).
        node.setEnv({ KVS_TEST_CRASH_AT_SPLIT: `${victim}:${at}:${marker}` });
        await node.stop();
        await node.restart();
        await node.waitReady(30_000);
        const admin = new AdminClient(cluster.addresses, 15_000);
        clients.push(admin);
        // The leader moves back to the victim for the leader case (its restart cost it the leadership).
        if (who === 'leader') {
          await until(`store ${victim} leads range 1 again`, async () => {
            await admin.transferLeader(victim, 5000).catch(() => undefined);
            return (await leaderOf(admin, 'k20')) === victim ? true : undefined;
          });
        }
        // The split: the victim dies applying it. From the leader's side it may still succeed, fail or time out.
        await admin.splitRange(b('k20')).catch(() => undefined);
        await until('the victim crashed at the failpoint', async () => (existsSync(marker) && !node.running ? true : undefined), 30_000);
        // The survivors hold both halves (retry the split if the leader itself died before committing it).
        await until('the split is in place on the survivors', async () => {
          const survivor = cluster!.addresses[victim === 1 ? 1 : 0]!;
          const rs = (await admin.ranges(survivor).catch(() => undefined))?.ranges;
          if (rs?.some((r) => r.start.toString() === 'k20')) return true;
          await admin.splitRange(b('k20')).catch(() => undefined);
          return undefined;
        }, 60_000);
        for (const k of KEYS.slice(20)) await w.put(k, `v1-${k}`);
        // Restart without crashing again (the marker exists): it recovers both halves.
        await node.restart();
        await node.waitReady(30_000);
        const mine = await until(`store ${victim} holds both halves, each with a leader`, async () => {
          const rs = (await admin.ranges(node.address)).ranges;
          const right = rs.find((r) => r.start.toString() === 'k20');
          const left = rs.find((r) => r.start.length === 0);
          return right && left && left.end.toString() === 'k20' && Number(right.leaderId) > 0 && Number(left.leaderId) > 0 ? { left, right } : undefined;
        }, 60_000);
        assert.equal(Number(mine.left.version), Number(mine.right.version), 'both halves carry the split epoch');
        // Every key, written before and after the split, is served by the recovered store itself.
        const local = new KvClient({ endpoints: [node.address], timeoutMs: 20_000 });
        clients.push(local);
        await until('the recovered store serves every key', async () => {
          for (const k of KEYS) if ((await local.get(k)).value?.toString() !== `v1-${k}`) return undefined;
          return true;
        }, 60_000);
        // Writes go on to both halves, through the recovered store too.
        for (const k of ['k05', 'k35']) await local.put(k, 'v2');
        for (const a of cluster.addresses) {
          const c = new KvClient({ endpoints: [a], timeoutMs: 20_000 });
          clients.push(c);
          for (const k of ['k05', 'k35']) assert.equal((await c.get(k)).value?.toString(), 'v2', `${a}: ${k}`);
        }
      });
    }
  }
});
