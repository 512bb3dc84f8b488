// Crash test: a node under concurrent put load is SIGKILLed at random moments (≥5 times) and restarted
// on the same data dir. Every write acknowledged before a kill must be readable with its value after
// the restart; writes whose reply never came may or may not be there. Per-writer counter keys also
// check that no key rolls back to an older acknowledged value, and per-writer 3-key batches that a batch
// is all-or-nothing across a crash (the three keys always carry the same generation).
// Negative control: the same check against a `--memory` node (loses everything on a kill) must fail.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KvClient } from '../../node/src/client/index.js';
import { RAFT_WAL_DIR } from '../../node/src/raftstore/raft-node.js';
import { NodeProcess, collectLogsOnFailure } from '../helpers/cluster-process.js';
import { prng, sleep, testSeed, useNode } from './support/fixture.js';

const KILLS = 6;
const WRITERS = 12;
const MAX_OPS_PER_WRITER = 3000;

interface CrashRunResult {
  acked: number;
  errors: number;
}

/** Runs writers against `node`, kills it `kills` times, verifies after every restart; throws on a violation. */
async function crashRun(node: NodeProcess, seed: number, kills: number, clients: KvClient[]): Promise<CrashRunResult> {
  const rand = prng(seed);
  // Writers: one attempt per call, no session, so an error means "outcome unknown" and nothing is retried behind our back.
  const writer = new KvClient({ endpoints: [node.address], sessions: false, maxAttempts: 1, timeoutMs: 2000, attemptTimeoutMs: 2000 });
  const reader = new KvClient({ endpoints: [node.address], timeoutMs: 20_000 });
  clients.push(writer, reader);
  const acked = new Map<string, string>();
  const counters = Array.from({ length: WRITERS }, () => ({ lastAcked: -1, lastAttempted: -1 }));
  const groups = Array.from({ length: WRITERS }, () => ({ lastAcked: -1, lastAttempted: -1 }));
  let errors = 0;
  let stop = false;

  const writerLoop = async (w: number): Promise<void> => {
    for (let n = 0; n < MAX_OPS_PER_WRITER && !stop; n++) {
      const key = `crash/u/${String(w).padStart(2, '0')}/${String(n).padStart(5, '0')}`;
      const value = `v${n}-${seed}-${w}`;
      try {
        await writer.put(key, value);
        acked.set(key, value);
      } catch {
        errors++;
        await sleep(20);
      }
      const c = counters[w]!;
      c.lastAttempted = n;
      try {
        await writer.put(`crash/c/${w}`, String(n));
        c.lastAcked = n;
      } catch {
        errors++;
        await sleep(20);
      }
      if (n % 4 === 0) {
        const g = groups[w]!;
        g.lastAttempted = n;
        try {
          await writer.batch([0, 1, 2].map((j) => ({ op: 'put' as const, key: `crash/g/${w}/${j}`, value: String(n) })));
          g.lastAcked = n;
        } catch {
          errors++;
        }
      }
    }
  };

  const verify = async (label: string): Promise<void> => {
    const ackedBefore = new Map(acked);
    const counterFloor = counters.map((c) => c.lastAcked);
    const groupFloor = groups.map((g) => g.lastAcked);
    const seen = new Map<string, string>();
    for (const kv of await reader.scanPrefix('crash/u/')) seen.set(kv.key.toString(), kv.value.toString());
    let missing = 0;
    let wrong = 0;
    const examples: string[] = [];
    for (const [k, v] of ackedBefore) {
      const got = seen.get(k);
      if (got === v) continue;
      if (got === undefined) missing++;
      else wrong++;
      if (examples.length < 5) examples.push(`${k}: want ${v}, got ${got ?? '<absent>'}`);
    }
    assert.equal(missing + wrong, 0, `${label}: ${missing} acknowledged writes lost, ${wrong} with a wrong value, e.g.\n${examples.join('\n')}`);
    for (let w = 0; w < WRITERS; w++) {
      const r = await reader.get(`crash/c/${w}`);
      const floor = counterFloor[w]!;
      if (floor < 0) continue;
      assert.ok(r.found, `${label}: counter ${w} lost (last acknowledged ${floor})`);
      const v = Number(r.value!.toString());
      assert.ok(v >= floor, `${label}: counter ${w} rolled back to ${v} (acknowledged ${floor})`);
      assert.ok(v <= counters[w]!.lastAttempted, `${label}: counter ${w} = ${v} was never written`);
    }
    for (let w = 0; w < WRITERS; w++) {
      const floor = groupFloor[w]!;
      const kvs = await reader.scanPrefix(`crash/g/${w}/`);
      if (floor < 0 && kvs.length === 0) continue;
      const gens = kvs.map((kv) => kv.value.toString());
      assert.equal(kvs.length, 3, `${label}: batch group ${w} is partial: ${gens.join(',')}`);
      assert.ok(gens.every((g) => g === gens[0]), `${label}: batch group ${w} torn across the crash: ${gens.join(',')}`);
      assert.ok(Number(gens[0]) >= floor, `${label}: batch group ${w} rolled back to ${gens[0]} (acknowledged ${floor})`);
    }
  };

  const load = Promise.all(Array.from({ length: WRITERS }, (_, w) => writerLoop(w)));
  try {
    for (let k = 1; k <= kills; k++) {
      await sleep(300 + Math.floor(rand() * 1200));
      const ackedAtKill = acked.size;
      await node.kill9();
      await sleep(Math.floor(rand() * 300));
      await node.restart();
      await verify(`after kill #${k} (${ackedAtKill} acknowledged before it)`);
    }
  } finally {
    stop = true;
    await load;
  }
  await verify('final');
  return { acked: acked.size, errors };
}

describe('crash recovery: kill -9 under write load', function () {
  this.timeout(180_000);
  const f = useNode();
  const clients: KvClient[] = [];
  after(() => clients.forEach((c) => c.close()));

  it(`keeps every acknowledged write across ${KILLS} SIGKILLs at random moments`, async function () {
    const seed = testSeed('crash');
    const node = f.node;
    const pids: number[] = [];
    const origKill = node.kill9.bind(node);
    node.kill9 = async () => {
      pids.push(node.pid!);
      return origKill();
    };
    const r = await crashRun(node, seed, KILLS, clients);
    assert.equal(node.starts, KILLS + 1);
    assert.equal(new Set(pids).size, KILLS, 'each kill hit a fresh process');
    assert.ok(r.acked > 100, `enough load: only ${r.acked} acknowledged writes`);
    console.log(`      ${r.acked} acknowledged unique writes, ${r.errors} failed/unknown, ${KILLS} kills`);
    // After all that, the node still serves writes.
    const c = f.client();
    await c.put('crash/after', 'ok');
    assert.equal((await c.get('crash/after')).value?.toString(), 'ok');
  });

  describe('with --raft-wal: a single-voter Raft store whose log writes are made durable by its own WAL', function () {
    let node: NodeProcess | undefined;
    afterEach(function () {
      collectLogsOnFailure(this, [node]);
    });
    after(async () => node?.cleanup());

    it('keeps every acknowledged write across 3 SIGKILLs; the WAL carried the log writes', async function () {
      node = new NodeProcess({ nodeId: 'wal', extraArgs: (spec) => ['--raft-id', '1', '--peers', `1=${spec.host}:${spec.grpcPort}`, '--raft-wal'], env: { KVS_LOG_LEVEL: 'info' } });
      await node.start();
      const r = await crashRun(node, testSeed('crash-wal'), 3, clients);
      assert.ok(r.acked > 100, `enough load: only ${r.acked} acknowledged writes`);
      const m = await node.metrics();
      const walWrites = Number(/^kvs_store_wal_writes(?:\{[^}]*\})? (\d+)/m.exec(m)?.[1] ?? '0');
      assert.ok(walWrites > 0, 'log writes went through the WAL since the last restart');
      const segments = readdirSync(join(node.dataDir, RAFT_WAL_DIR)).filter((f) => f.endsWith('.wal'));
      assert.ok(segments.length >= 1 && segments.length <= 3, `checkpoints keep the WAL short: ${segments.join(', ')}`);
      console.log(`      --raft-wal: ${r.acked} acknowledged unique writes, ${r.errors} failed/unknown, 3 kills; ${walWrites} WAL group writes since the last start, ${segments.length} segment(s)`);
    });
  });

  describe('negative control', function () {
    let mem: NodeProcess | undefined;
    afterEach(function () {
      collectLogsOnFailure(this, [mem]);
    });
    after(async () => mem?.cleanup());

    it('detects the loss on a --memory node (the check is not vacuous)', async function () {
      mem = new NodeProcess({ nodeId: 'mem', extraArgs: ['--memory'], env: { KVS_LOG_LEVEL: 'warn' } });
      await mem.start();
      await assert.rejects(crashRun(mem, 1, 1, clients), (e: Error) => e instanceof assert.AssertionError && /acknowledged writes lost|lost/.test(e.message));
    });
  });
});
