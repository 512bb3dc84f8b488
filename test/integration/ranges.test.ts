// Sharding on real node processes (issue 12): three stores, ranges split with `kvsctl range split`
// while a client writes with exactly-once sessions across the whole key space; every acknowledged
// write stays readable, a scan across ranges returns every key exactly once and in order, `kvsctl range
// list --json` shows the shard map, a store killed with -9 reopens every range, and a batch across a
// range boundary fails with the typed CROSS_RANGE error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminClient, KvClient, KvCrossRangeError } from '../../node/src/client/index.js';
import { raftIdOf, peersOf, ProcessCluster, collectLogsOnFailure, sleep, until } from '../helpers/cluster-process.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const KEYS = 200;

interface RangeRow {
  id: number;
  start: string;
  end: string;
  replicas: Array<{ storeId: number; role: string }>;
  leader: number;
}

describe('ranges on real processes (split under load, shard map, crash, cross-range refusal)', function () {
  this.timeout(120_000);
  let cluster: ProcessCluster;
  let client: KvClient;
  let eps: string;

  before(async function () {
    cluster = await ProcessCluster.start({
      size: 3,
      hostOf: (i) => `127.0.0.${70 + i}`,
      extraArgs: (self, all) => ['--raft-id', String(raftIdOf(self, all)), '--peers', peersOf(all)],
    });
    eps = cluster.addresses.join(',');
    client = new KvClient({ endpoints: cluster.addresses, timeoutMs: 15_000 });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async function () {
    client?.close();
    await cluster?.cleanup();
  });

  const kvsctl = async (...args: string[]): Promise<string> => (await run(process.execPath, [KVSCTL, '--endpoints', eps, ...args], { timeout: 30_000 })).stdout;
  const rangeList = async (): Promise<RangeRow[]> => JSON.parse(await kvsctl('--json', 'range', 'list')) as RangeRow[];

  it('splits while a client writes: no acknowledged write lost, the shard map is contiguous and fully replicated', async function () {
    const acked = new Map<string, string>();
    let stop = false;
    let writes = 0;
    const failures: string[] = [];
    // Bounded writer: round-robin over the key space, one write in flight per worker.
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; n < 400 && !stop; n++) {
        const k = key((n * 4 + w) % KEYS);
        const v = `${w}-${n}`;
        try {
          await client.put(k, v);
          acked.set(k, v);
          writes++;
        } catch (e) {
          failures.push(`${k}: ${(e as Error).message}`);
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await sleep(300);
    for (const at of ['k050', 'k100', 'k150']) {
      const out = await kvsctl('range', 'split', at);
      assert.match(out, /^split: range \d+ \[.*\) and range \d+ \[/);
      await sleep(200);
    }
    stop = true;
    await load;
    assert.deepEqual(failures, [], 'every write succeeded (splits are invisible to clients)');
    assert.ok(writes > 100, `the load ran (${writes} writes)`);

    const ranges = await until('4 ranges with leaders', async () => {
      const r = await rangeList();
      return r.length === 4 && r.every((x) => x.leader > 0) ? r : undefined;
    });
    assert.deepEqual(
      ranges.map((r) => [r.start, r.end]),
      [
        ['', 'k050'],
        ['k050', 'k100'],
        ['k100', 'k150'],
        ['k150', ''],
      ],
    );
    for (const r of ranges) assert.deepEqual(r.replicas.map((x) => x.storeId).sort(), [1, 2, 3], `range ${r.id} is on every store`);
    assert.equal(new Set(ranges.map((r) => r.id)).size, 4);
    // Every acknowledged write is readable (each key's last acknowledged value: one writer per key).
    for (const [k, v] of acked) assert.equal((await client.get(k)).value?.toString(), v, k);
    // A scan across the four ranges returns every key once, in order, forward and reverse.
    const all = await client.scan({ start: 'k', end: 'l', limit: 1000 });
    const seen = all.kvs.map((x) => x.key.toString());
    assert.deepEqual(seen, [...acked.keys()].sort());
    const rev = await client.scan({ start: 'k', end: 'l', limit: 1000, reverse: true });
    assert.deepEqual(rev.kvs.map((x) => x.key.toString()), [...seen].reverse());
    const store = JSON.parse(await kvsctl('--json', 'store', 'list')) as Array<{ storeId: number; ranges: number }>;
    assert.deepEqual(store.map((s) => s.ranges), [4, 4, 4]);
  });

  it('a batch across a range boundary is refused with CROSS_RANGE and writes nothing; within one range it is atomic', async function () {
    await assert.rejects(
      client.batch([
        { op: 'put', key: 'k049', value: 'x' },
        { op: 'put', key: 'k051', value: 'x' },
      ]),
      KvCrossRangeError,
    );
    assert.notEqual((await client.get('k049')).value?.toString(), 'x');
    await client.batch([
      { op: 'put', key: 'k051', value: 'b' },
      { op: 'put', key: 'k052', value: 'b' },
    ]);
    assert.equal((await client.get('k052')).value?.toString(), 'b');
  });

  it('a store killed with -9 reopens every range and catches up; writes to every range go on', async function () {
    const victim = cluster.node(2);
    await victim.kill9();
    for (let i = 0; i < KEYS; i += 10) await client.put(key(i), `after-kill-${i}`);
    await victim.restart();
    await victim.waitReady(30_000);
    const admin = new AdminClient([victim.address]);
    try {
      const mine = await until('the restarted store holds 4 ranges, each knowing its leader', async () => {
        const r = await admin.ranges();
        return r.ranges.length === 4 && r.ranges.every((x) => x.leaderId > 0) ? r : undefined;
      });
      assert.equal(mine.storeId, 3);
      // Its replicas catch up: a read served by the restarted node sees the writes made while it was down.
      const local = new KvClient({ endpoints: [victim.address], timeoutMs: 15_000 });
      try {
        for (let i = 0; i < KEYS; i += 10) assert.equal((await local.get(key(i))).value?.toString(), `after-kill-${i}`);
      } finally {
        local.close();
      }
    } finally {
      admin.close();
    }
    for (let i = 5; i < KEYS; i += 10) await client.put(key(i), 'last');
  });
});
