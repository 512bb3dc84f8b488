// A wiped data dir never returns as the same voter (raftstore/identity.ts, issue 10 item 3).
//
// Unit level: the registry's admission rules, the identity entry codec, the durable identity file, and
// three in-process RaftNodes over real gRPC on loopback with LevelDB data dirs — the dangerous schedule
// itself: a follower F2 falls behind, writes are acknowledged by the leader L and the follower F, then L
// and F go down, F's data dir is wiped and F restarts under its old raft id next to the lagging F2.
// With the check, F2 refuses F (no leader can form without L; once L is back every acknowledged write
// is there); with the check switched off (the negative control) F's vote elects F2 and the acknowledged
// writes are gone.
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../node/src/common/logger.js';
import { IdentityRegistry, decodeIdentityEntry, encodeIdentityEntry, generateIncarnation, isIdentityEntry } from '../../../node/src/raftstore/identity.js';
import { RaftNode } from '../../../node/src/raftstore/raft-node.js';
import { startRaftServer } from '../../../node/src/raftstore/services.js';
import { adminStatus } from '../../../node/src/raftstore/admin.js';
import { ConfigError, checkRaftIdentity } from '../../../node/src/server/config.js';
import { freePort, sleep } from '../../helpers/cluster-process.js';

describe('raftstore: member identity (incarnations)', function () {
  describe('IdentityRegistry', function () {
    const A = generateIncarnation();
    const B = generateIncarnation();

    it('admits unknown ids, the recorded incarnation, frames without one and itself; refuses another incarnation and counts it', function () {
      const r = new IdentityRegistry(1, A);
      assert.deepEqual(r.admit(2, B), { ok: true }, 'not recorded yet: admitted (the leader records it)');
      assert.equal(r.apply({ raftId: 2, incarnation: B }), true);
      assert.equal(r.apply({ raftId: 2, incarnation: A }), false, 'first writer wins');
      assert.equal(r.recorded.get(2), B);
      assert.deepEqual(r.admit(2, B), { ok: true });
      assert.deepEqual(r.admit(2, ''), { ok: true }, 'older nodes send no incarnation');
      assert.deepEqual(r.admit(2, A), { ok: false, recorded: B });
      assert.deepEqual(r.admit(2, A), { ok: false, recorded: B });
      assert.equal(r.refused.get(2)?.count, 2);
      assert.equal(r.refusedFrames, 2);
      r.apply({ raftId: 1, incarnation: B });
      assert.deepEqual(r.admit(1, A), { ok: true }, 'never refuses itself');
      assert.equal(r.selfMismatch(), B);
      // The recorded data dir speaks again: the stale refusal is dropped from the status.
      assert.deepEqual(r.admit(2, B), { ok: true });
      assert.equal(r.refused.has(2), false);
    });

    it('the test-only switch admits everything and never marks itself refused (negative control)', function () {
      const r = new IdentityRegistry(1, A, false);
      r.apply({ raftId: 2, incarnation: B });
      assert.deepEqual(r.admit(2, A), { ok: true });
      assert.equal(r.refusedBy(2, 'x'), false);
      assert.equal(r.selfRefused, undefined);
    });

    it('identity entries round-trip; malformed ones decode to undefined; JSON persistence keeps first records', function () {
      const e = encodeIdentityEntry({ raftId: 7, incarnation: A });
      assert.ok(isIdentityEntry(e));
      assert.deepEqual(decodeIdentityEntry(e), { raftId: 7, incarnation: A });
      assert.equal(decodeIdentityEntry(Buffer.from([0x49, 1, 0x7b])), undefined);
      assert.equal(decodeIdentityEntry(Buffer.concat([Buffer.from([0x49, 1]), Buffer.from('{"raftId":0,"incarnation":"x"}')])), undefined);
      assert.equal(isIdentityEntry(Buffer.from([0x4b, 1, 0, 0])), false, 'a kvs proposal is not an identity entry');
      const r = new IdentityRegistry(1, A);
      r.apply({ raftId: 3, incarnation: B });
      const r2 = new IdentityRegistry(1, A);
      r2.load(r.toJSON());
      r2.load({ '3': A, '4': 'nothex', '-1': A });
      assert.deepEqual(r2.toJSON(), { '3': B });
    });
  });

  describe('identity file (KVS_RAFT_ID)', function () {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kvs-ident-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('mints an incarnation at the first start, keeps it across restarts, leaves no temp file; a wiped dir gets a new one', function () {
      const a = checkRaftIdentity(dir, 4);
      assert.equal(a.created, true);
      assert.match(a.incarnation, /^[0-9a-f]{32}$/);
      assert.equal(readFileSync(join(dir, 'KVS_RAFT_ID'), 'utf8'), `4\nincarnation ${a.incarnation}\n`);
      const b = checkRaftIdentity(dir, 4);
      assert.deepEqual(b, { raftId: 4, incarnation: a.incarnation, created: false });
      assert.deepEqual(readdirSync(dir), ['KVS_RAFT_ID']);
      assert.throws(() => checkRaftIdentity(dir, 5), (e: unknown) => e instanceof ConfigError && /belongs to raft id 4/.test((e as Error).message));
      const fresh = mkdtempSync(join(tmpdir(), 'kvs-ident-'));
      try {
        const c = checkRaftIdentity(fresh, 4);
        assert.notEqual(c.incarnation, a.incarnation);
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    });

    it('completes a file of an older version (raft id only) with an incarnation; refuses a malformed one', function () {
      writeFileSync(join(dir, 'KVS_RAFT_ID'), '3\n');
      const a = checkRaftIdentity(dir, 3);
      assert.equal(a.created, true);
      assert.equal(checkRaftIdentity(dir, 3).incarnation, a.incarnation);
      writeFileSync(join(dir, 'KVS_RAFT_ID'), '3\nincarnation zz\n');
      assert.throws(() => checkRaftIdentity(dir, 3), ConfigError);
      writeFileSync(join(dir, 'KVS_RAFT_ID'), '3\nsomething else\n');
      assert.throws(() => checkRaftIdentity(dir, 3), ConfigError);
    });
  });

  describe('three in-process nodes over gRPC: wipe a member and restart it under its old raft id', function () {
    this.timeout(60_000);

    interface Member {
      id: number;
      dir: string;
      incarnation: string;
      node?: RaftNode;
      server?: grpc.Server;
    }

    let base: string;
    let members: Member[] = [];
    let peers: Map<number, string>;
    beforeEach(async () => {
      base = mkdtempSync(join(tmpdir(), 'kvs-ident-cluster-'));
      peers = new Map();
      members = [];
      for (const id of [1, 2, 3]) {
        peers.set(id, `127.0.0.1:${await freePort()}`);
        members.push({ id, dir: join(base, `n${id}`), incarnation: '' });
      }
    });
    afterEach(async () => {
      for (const m of members) await stop(m);
      rmSync(base, { recursive: true, force: true });
    });

    async function start(m: Member, enforce: boolean): Promise<void> {
      // The identity file decides the incarnation exactly as kvs-node does (server/main.ts).
      mkdirSync(m.dir, { recursive: true });
      m.incarnation = checkRaftIdentity(m.dir, m.id).incarnation;
      m.node = await RaftNode.open({
        raftId: m.id,
        peers,
        clientAddress: peers.get(m.id)!,
        raftAddress: peers.get(m.id)!,
        dataDir: m.dir,
        incarnation: m.incarnation,
        enforceIdentity: enforce,
        logger: silentLogger(),
        tickMs: 20,
        electionTick: 10,
        store: { nodeId: `n${m.id}`, logger: silentLogger() },
      });
      m.server = await startRaftServer(peers.get(m.id)!, m.node.transport.serviceHandlers());
    }

    async function stop(m: Member): Promise<void> {
      m.server?.forceShutdown();
      m.server = undefined;
      await m.node?.close().catch(() => undefined);
      m.node = undefined;
    }

    const leaderOf = (ms: Member[]): Member | undefined => ms.find((m) => m.node?.peer.isLeader === true);

    async function waitLeader(ms: Member[], timeoutMs = 10_000): Promise<Member> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const l = leaderOf(ms);
        if (l !== undefined) return l;
        await sleep(20);
      }
      throw new Error('no leader');
    }

    async function until(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (pred()) return;
        await sleep(20);
      }
      throw new Error(`timed out: ${what}`);
    }

    /** Runs the schedule; returns what F2 could do with the wiped F alone and which acked keys survived. */
    async function scenario(enforce: boolean): Promise<{ leaderWithoutL: boolean; lost: number; acked: number; wiped: Member; lagging: Member }> {
      for (const m of members) await start(m, enforce);
      const L0 = await waitLeader(members);
      // Every member learns every incarnation through the log (F2 will need F's without ever talking to it).
      await until('identity records replicated', () => members.every((m) => m.node!.peer.identity.recorded.size === 3));
      for (const m of members) for (const o of members) assert.equal(m.node!.peer.identity.recorded.get(o.id), o.incarnation);
      const [F, F2] = members.filter((m) => m !== L0) as [Member, Member];
      const L = L0;
      await stop(F2);
      // Writes acknowledged by L + F while F2 is down.
      const acked: string[] = [];
      for (let i = 0; i < 40; i++) {
        await L.node!.kvStore.put(Buffer.from(`k${i}`), Buffer.from(`v${i}`));
        acked.push(`k${i}`);
      }
      // Make sure F holds them too (it counted towards their quorum), then L and F go down, F is wiped.
      await until('F applied', () => F.node!.peer.appliedIndex >= L.node!.peer.appliedIndex);
      await stop(L);
      await stop(F);
      rmSync(F.dir, { recursive: true, force: true });
      await start(F, enforce);
      await start(F2, enforce);
      assert.notEqual(F.incarnation, '', 'the wiped dir got a fresh incarnation');
      // Ten election timeouts at least (tick 20 ms × electionTick 10 = 200–400 ms each).
      let leaderWithoutL = false;
      const deadline = Date.now() + 4000;
      while (Date.now() < deadline && !leaderWithoutL) {
        leaderWithoutL = leaderOf([F, F2]) !== undefined;
        await sleep(20);
      }
      let lost = 0;
      if (leaderWithoutL) {
        const lead = leaderOf([F, F2])!;
        for (const k of acked) if (!(await lead.node!.kvStore.get(Buffer.from(k))).found) lost++;
      } else {
        await start(L, enforce);
        const lead = await waitLeader(members);
        for (const k of acked) if (!(await lead.node!.kvStore.get(Buffer.from(k))).found) lost++;
      }
      return { leaderWithoutL, lost, acked: acked.length, wiped: F, lagging: F2 };
    }

    it('with the check: the lagging member refuses the wiped one, no leader forms without the old leader, no acknowledged write is lost', async function () {
      const r = await scenario(true);
      assert.equal(r.leaderWithoutL, false, 'the wiped member helped elect a leader');
      assert.equal(r.lost, 0);
      const F2 = r.lagging.node!.peer;
      assert.ok(F2.identity.refused.has(r.wiped.id), 'F2 refused the wiped member');
      const st = adminStatus(r.lagging.node!, 'n');
      const m = (st.members ?? []).find((x) => x.raftId === r.wiped.id)!;
      assert.equal(m.refused, true);
      assert.equal(m.refusedIncarnation, r.wiped.incarnation);
      assert.notEqual(m.incarnation, r.wiped.incarnation);
      // The wiped member knows it (told back on the stream): 503 code, status, never votes.
      await until('wiped member told', () => r.wiped.node!.peer.identity.selfRefused !== undefined);
      const ready = r.wiped.node!.peer.readiness();
      assert.ok(ready !== true && ready.code === 'RAFT_IDENTITY_REFUSED', JSON.stringify(ready));
      const ws = adminStatus(r.wiped.node!, 'n');
      assert.equal(ws.identityRefused, true);
      assert.equal(ws.incarnation, r.wiped.incarnation);
      assert.equal(r.wiped.node!.peer.isLeader, false);
      // The group (L + F2) keeps serving writes without it.
      const lead = leaderOf(members)!;
      await lead.node!.kvStore.put(Buffer.from('after'), Buffer.from('x'));
    });

    it('negative control (--test-disable-identity-check): the wiped member votes the lagging one in and acknowledged writes are lost', async function () {
      const r = await scenario(false);
      assert.equal(r.leaderWithoutL, true, 'without the check the wiped member counts towards a quorum');
      assert.ok(r.lost > 0, `acknowledged writes lost: ${r.lost} of ${r.acked}`);
    });
  });
});
