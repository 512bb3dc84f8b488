// Leadership on shutdown (issue 11, item 9), on real processes: a 3-node Raft cluster on 127.0.0.x under
// a writing client; the leader gets SIGTERM (what a node drain, an eviction or `kubectl delete pod`
// sends). It must hand leadership to a caught-up voter before it exits, so the group does not sit out an
// election timeout before writes go on. The write pause is
// the longest gap between two acknowledged writes from the SIGTERM on; printed for the issue note.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AdminClient, KvClient } from '../../node/src/client/index.js';
import { raftIdOf, peersOf, ProcessCluster, collectLogsOnFailure, sleep } from '../helpers/cluster-process.js';

/**
 * A long election timeout (40 ticks × 50 ms = 2–4 s) separates the two outcomes on a loaded machine:
 * without a hand-over the group waits at least this long; a hand-over does not depend on it.
 */
const ELECTION_TICK = 40;
const ELECTION_TIMEOUT_MIN_MS = ELECTION_TICK * 50;

describe('shutdown: a leader that gets SIGTERM hands leadership over before it exits (multi-process)', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  const clients: Array<{ close(): void }> = [];

  before(async function () {
    cluster = await ProcessCluster.start({
      size: 3,
      hostOf: (i) => `127.0.0.${40 + i}`,
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all), '--raft-tick', '50ms', '--election-tick', String(ELECTION_TICK)],
    });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster.nodes);
  });
  after(async function () {
    for (const c of clients) c.close();
    await cluster?.cleanup();
  });

  /** Index (in cluster.nodes) of the leader every running node agrees on. */
  async function leaderIndex(): Promise<number> {
    const live = cluster.nodes.filter((n) => n.running);
    const admin = new AdminClient(live.map((n) => n.address));
    clients.push(admin);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const sts = await admin.statusAll().catch(() => []);
      const i = sts.findIndex((s) => s?.role === 'Leader');
      if (i >= 0 && sts.every((s) => s !== undefined && Number(s.leaderId) === Number(sts[i]!.raftId))) return cluster.nodes.indexOf(live[i]!);
      await sleep(100);
    }
    throw new Error('no agreed leader');
  }

  it('SIGTERM the leader under a writing client: the write pause stays below an election timeout; the log says to whom leadership went', async function () {
    const li = await leaderIndex();
    const victim = cluster.node(li);
    // Eager retries (10 → 100 ms): the pause measured is the group's, not the client's backoff policy.
    const client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000, attemptTimeoutMs: 2000, backoff: { initialMs: 10, maxMs: 100 } });
    clients.push(client);
    await client.put('sd/warm', 'x');
    const acks: number[] = [];
    let failures = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await client.put(`sd/${i}`, `v${i}`);
          acks.push(performance.now());
        } catch {
          failures++;
        }
        await sleep(2);
      }
    })();
    await sleep(1000);
    const tTerm = performance.now();
    const exit = await victim.stop(15_000);
    const stopMs = performance.now() - tTerm;
    // Until writes flow again after the exit (an election, without a hand-over), bounded.
    const tExit = performance.now();
    for (let i = 0; i < 200 && acks.filter((t) => t > tExit).length < 20; i++) await sleep(100);
    stop = true;
    await writer;
    assert.equal(exit.code, 0, 'graceful exit');
    const after = acks.filter((t) => t > tTerm);
    assert.ok(after.length > 10, `writes continued after the SIGTERM (${after.length})`);
    const lastBefore = acks.filter((t) => t <= tTerm).pop() ?? tTerm;
    let pause = after[0]! - lastBefore;
    for (let i = 1; i < after.length; i++) pause = Math.max(pause, after[i]! - after[i - 1]!);
    console.log(`      write pause after SIGTERM of the leader: ${pause.toFixed(0)} ms (${failures} failed requests, ${acks.length} acknowledged); SIGTERM → exit ${stopMs.toFixed(0)} ms`);
    // The drain ends once the client calls are answered; the peers' Raft streams must not hold it until
    // the drain timeout (10 s): in Kubernetes the replacement pod is only created once this one is gone.
    assert.ok(stopMs < 5000, `graceful stop took ${stopMs.toFixed(0)} ms`);
    const log = readFileSync(victim.logFile, 'utf8');
    const handOff = log.split('\n').find((l) => l.includes('"message":"leadership handed over before shutdown"'));
    assert.ok(handOff, 'the leader logged the hand-over');
    console.log(`      hand-over: ${JSON.stringify({ to: JSON.parse(handOff).to, ms: JSON.parse(handOff).ms })}`);
    const newLeader = await leaderIndex();
    assert.notEqual(newLeader, li);
    assert.equal(failures, 0);
    assert.ok(pause < ELECTION_TIMEOUT_MIN_MS, `write pause ${pause.toFixed(0)} ms: as long as an election (≥ ${ELECTION_TIMEOUT_MIN_MS} ms)`);
    await victim.restart();
  });
});
