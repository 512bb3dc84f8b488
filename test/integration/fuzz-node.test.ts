// fast-check fuzzing of a running node: random valid requests (binary / unicode keys, CAS, scans with
// random bounds and limits, batches, delete-ranges, transactions) are checked against an in-memory model,
// interleaved with malformed ones (empty / oversized keys and values, bad ranges, unknown or malformed
// transaction ids, bad headers, garbage bytes as request messages). Invalid requests must get the
// documented status with a message; the node must never crash (same pid, /healthz OK).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { callError, rawKv, type RawKv, type CallError } from '../helpers/process-grpc.js';
import { testSeed, useNode } from './support/fixture.js';

const MAX_KEY = 8 * 1024;
const MAX_VALUE = 1024 * 1024;
const DEFAULT_SCAN_LIMIT = 1000;
const MAX_SCAN_LIMIT = 10_000;

type Model = Map<string, Buffer>; // hex(key) → value

type ValidOp =
  | { t: 'put'; k: Uint8Array; v: Uint8Array }
  | { t: 'get'; k: Uint8Array }
  | { t: 'del'; k: Uint8Array }
  | { t: 'cas'; k: Uint8Array; v: Uint8Array; expect: 'model' | 'absent' | 'wrong' }
  | { t: 'scan'; a?: Uint8Array; b?: Uint8Array; limit: number; reverse: boolean; keysOnly: boolean }
  | { t: 'batch'; muts: Array<{ del: boolean; k: Uint8Array; v: Uint8Array }> }
  | { t: 'delrange'; a: Uint8Array; b: Uint8Array }
  | { t: 'txn'; k: Uint8Array; v: Uint8Array; k2: Uint8Array; rollback: boolean };

type InvalidOp =
  | { t: 'bad'; what: (typeof BAD_KINDS)[number]; n: number }
  | { t: 'garbage'; method: 'Get' | 'Scan' | 'Status'; bytes: Uint8Array };

const BAD_KINDS = [
  'put-empty-key',
  'get-empty-key',
  'put-key-too-long',
  'get-key-too-long',
  'put-value-too-long',
  'scan-start-after-end',
  'scan-prefix-and-start',
  'delrange-unbounded',
  'get-unknown-txn',
  'commit-unknown-txn',
  'commit-unknown-txn-session',
  'put-unknown-txn',
  'get-malformed-txn',
  'seq-without-client',
  'first-unacked-above-seq',
  'cas-absent-and-expected',
  'put-in-read-only-txn',
  'delete-empty-key',
  'batch-empty-key',
  'get-txn-and-snapshot',
] as const;

/** Expected status of each malformed request. */
const EXPECTED: Record<(typeof BAD_KINDS)[number], number[]> = {
  'put-empty-key': [status.INVALID_ARGUMENT],
  'get-empty-key': [status.INVALID_ARGUMENT],
  'put-key-too-long': [status.INVALID_ARGUMENT],
  'get-key-too-long': [status.INVALID_ARGUMENT],
  'put-value-too-long': [status.INVALID_ARGUMENT],
  'scan-start-after-end': [status.INVALID_ARGUMENT],
  'scan-prefix-and-start': [status.INVALID_ARGUMENT],
  'delrange-unbounded': [status.INVALID_ARGUMENT],
  'get-unknown-txn': [status.NOT_FOUND],
  // Without a session the node cannot tell a never-begun transaction from one it forgot (restart): the
  // outcome is unknown. With one, the commit is fenced off in the log: certainly not committed.
  'commit-unknown-txn': [status.UNAVAILABLE],
  'commit-unknown-txn-session': [status.NOT_FOUND],
  'put-unknown-txn': [status.NOT_FOUND],
  'get-malformed-txn': [status.INVALID_ARGUMENT],
  'seq-without-client': [status.INVALID_ARGUMENT],
  'first-unacked-above-seq': [status.INVALID_ARGUMENT],
  'cas-absent-and-expected': [status.INVALID_ARGUMENT],
  'put-in-read-only-txn': [status.FAILED_PRECONDITION],
  'delete-empty-key': [status.INVALID_ARGUMENT],
  'batch-empty-key': [status.INVALID_ARGUMENT],
  'get-txn-and-snapshot': [status.INVALID_ARGUMENT],
};

const hex = (b: Buffer): string => b.toString('hex');

/** Keys: binary, unicode (any code point, surrogates included via 'binary'), ASCII; 1..24 bytes. */
const suffixArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
  fc.constantFrom(...['a', 'b', 'c', 'ab', '\u00ff', '\u{1F600}', 'z'].map((s) => new Uint8Array(Buffer.from(s, 'utf8')))),
  fc.constantFrom(new Uint8Array([0]), new Uint8Array([0xff]), new Uint8Array([0xff, 0xff]), new Uint8Array([0, 0])),
);
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 300 });

const validArb: fc.Arbitrary<ValidOp> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('put' as const), k: suffixArb, v: valueArb }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('get' as const), k: suffixArb }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('del' as const), k: suffixArb }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('cas' as const), k: suffixArb, v: valueArb, expect: fc.constantFrom('model' as const, 'absent' as const, 'wrong' as const) }), weight: 3 },
  {
    arbitrary: fc.record(
      {
        t: fc.constant('scan' as const),
        a: suffixArb,
        b: suffixArb,
        limit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.constant(4294967295), fc.constant(MAX_SCAN_LIMIT + 1)),
        reverse: fc.boolean(),
        keysOnly: fc.boolean(),
      },
      { requiredKeys: ['t', 'limit', 'reverse', 'keysOnly'] },
    ),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('batch' as const), muts: fc.array(fc.record({ del: fc.boolean(), k: suffixArb, v: valueArb }), { minLength: 1, maxLength: 6 }) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('delrange' as const), a: suffixArb, b: suffixArb }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('txn' as const), k: suffixArb, v: valueArb, k2: suffixArb, rollback: fc.boolean() }), weight: 2 },
);

const invalidArb: fc.Arbitrary<InvalidOp> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('bad' as const), what: fc.constantFrom(...BAD_KINDS), n: fc.nat(1000) }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('garbage' as const), method: fc.constantFrom('Get' as const, 'Scan' as const, 'Status' as const), bytes: fc.uint8Array({ maxLength: 64 }) }), weight: 1 },
);

describe('fuzzing a running node (fast-check)', function () {
  this.timeout(240_000);
  const f = useNode();
  let kv: RawKv;
  let pid: number;
  const stats = { valid: 0, invalid: 0, garbage: 0, garbageCodes: new Map<string, number>() };

  before(function () {
    kv = rawKv(f.node.address);
    pid = f.node.pid!;
  });
  after(function () {
    kv?.close();
  });

  const assertAlive = async (): Promise<void> => {
    assert.ok(f.node.running, `node exited: ${JSON.stringify(f.node.exitInfo)}\n${f.node.logTail()}`);
    assert.equal(f.node.pid, pid, 'node restarted?');
    assert.ok(await f.node.healthz(), '/healthz not OK');
  };

  async function expectError(p: Promise<unknown>, codes: number[], what: string): Promise<CallError> {
    try {
      await p;
    } catch (e) {
      const err = callError(e);
      assert.ok(codes.includes(err.code), `${what}: expected ${codes.map((c) => status[c]).join('|')}, got ${err.codeName}: ${err.details}`);
      assert.ok(err.details.length > 0, `${what}: error without a message`);
      return err;
    }
    assert.fail(`${what}: expected ${codes.map((c) => status[c]).join('|')}, but the call succeeded`);
  }

  async function runValid(op: ValidOp, prefix: Buffer, model: Model): Promise<void> {
    const K = (s: Uint8Array): Buffer => Buffer.concat([prefix, Buffer.from(s)]);
    const sortedModel = (): Array<[Buffer, Buffer]> =>
      [...model.entries()].map(([k, v]) => [Buffer.from(k, 'hex'), v] as [Buffer, Buffer]).sort((x, y) => Buffer.compare(x[0], y[0]));
    stats.valid++;
    switch (op.t) {
      case 'put': {
        const r = await kv.put({ key: K(op.k), value: Buffer.from(op.v) });
        assert.equal(r.succeeded, true);
        model.set(hex(K(op.k)), Buffer.from(op.v));
        return;
      }
      case 'get': {
        const r = await kv.get({ key: K(op.k) });
        const want = model.get(hex(K(op.k)));
        assert.equal(r.found, want !== undefined, `get ${hex(K(op.k))} found`);
        if (want) assert.ok(r.value.equals(want), `get ${hex(K(op.k))} value`);
        return;
      }
      case 'del': {
        const r = await kv.delete({ key: K(op.k) });
        assert.equal(r.deleted, model.has(hex(K(op.k))), 'delete reports whether the key existed');
        model.delete(hex(K(op.k)));
        return;
      }
      case 'cas': {
        const cur = model.get(hex(K(op.k)));
        let holds: boolean;
        let req;
        if (op.expect === 'absent') {
          holds = cur === undefined;
          req = { key: K(op.k), value: Buffer.from(op.v), expectAbsent: true };
        } else {
          const expected = op.expect === 'model' && cur ? cur : Buffer.from('\u0000never-stored');
          holds = cur !== undefined && cur.equals(expected);
          req = { key: K(op.k), value: Buffer.from(op.v), hasExpected: true, expectedValue: expected };
        }
        const r = await kv.put(req);
        assert.equal(r.succeeded, holds, `cas(${op.expect}) on ${cur ? 'present' : 'absent'} key`);
        if (holds) model.set(hex(K(op.k)), Buffer.from(op.v));
        return;
      }
      case 'scan': {
        let a = op.a ? K(op.a) : undefined;
        let b = op.b ? K(op.b) : undefined;
        if (a && b && Buffer.compare(a, b) > 0) [a, b] = [b, a];
        // Unbounded sides stay inside this run's prefix.
        const start = a ?? prefix;
        const end = b ?? Buffer.concat([prefix.subarray(0, prefix.length - 1), Buffer.from([prefix[prefix.length - 1]! + 1])]);
        const r = await kv.scan({ start, end, limit: op.limit, reverse: op.reverse, keysOnly: op.keysOnly });
        let want = sortedModel().filter(([k]) => Buffer.compare(k, start) >= 0 && Buffer.compare(k, end) < 0);
        if (op.reverse) want = want.reverse();
        const eff = op.limit === 0 ? DEFAULT_SCAN_LIMIT : Math.min(op.limit, MAX_SCAN_LIMIT);
        const page = want.slice(0, eff);
        assert.deepEqual(
          r.kvs.map((x) => hex(x.key)),
          page.map(([k]) => hex(k)),
          `scan [${hex(start)}, ${hex(end)}) limit ${op.limit} reverse ${op.reverse}`,
        );
        if (!op.keysOnly) r.kvs.forEach((x, i) => assert.ok(x.value.equals(page[i]![1]), 'scan value'));
        if (want.length > eff) assert.equal(r.more, true, 'more when the limit cut the scan');
        if (want.length < eff) assert.equal(r.more, false, 'no more when everything was returned');
        return;
      }
      case 'batch': {
        await kv.batch({ mutations: op.muts.map((m) => (m.del ? { op: 'DELETE', key: K(m.k) } : { op: 'PUT', key: K(m.k), value: Buffer.from(m.v) })) });
        for (const m of op.muts) {
          if (m.del) model.delete(hex(K(m.k)));
          else model.set(hex(K(m.k)), Buffer.from(m.v));
        }
        return;
      }
      case 'delrange': {
        let a = K(op.a);
        let b = K(op.b);
        if (Buffer.compare(a, b) > 0) [a, b] = [b, a];
        const victims = [...model.keys()].filter((k) => {
          const kb = Buffer.from(k, 'hex');
          return Buffer.compare(kb, a) >= 0 && Buffer.compare(kb, b) < 0;
        });
        const r = await kv.deleteRange({ start: a, end: b });
        assert.equal(Number(r.deleted), victims.length, 'deleteRange count');
        victims.forEach((k) => model.delete(k));
        return;
      }
      case 'txn': {
        const { txnId } = await kv.begin({});
        assert.match(txnId, /^[A-Za-z0-9._:-]{1,128}$/);
        await kv.put({ key: K(op.k), value: Buffer.from(op.v), txnId });
        const own = await kv.get({ key: K(op.k), txnId });
        assert.ok(own.found && own.value.equals(Buffer.from(op.v)), 'a transaction reads its own write');
        const other = await kv.get({ key: K(op.k2), txnId });
        const want2 = Buffer.compare(K(op.k2), K(op.k)) === 0 ? Buffer.from(op.v) : model.get(hex(K(op.k2)));
        assert.equal(other.found, want2 !== undefined, 'txn read of another key');
        if (want2) assert.ok(other.value.equals(want2));
        if (op.rollback) {
          await kv.rollback({ txnId });
        } else {
          await kv.commit({ txnId });
          model.set(hex(K(op.k)), Buffer.from(op.v));
        }
        return;
      }
    }
  }

  async function runInvalid(op: InvalidOp, prefix: Buffer): Promise<void> {
    if (op.t === 'garbage') {
      stats.garbage++;
      try {
        await kv.rawCall(op.method, Buffer.from(op.bytes));
        stats.garbageCodes.set('OK', (stats.garbageCodes.get('OK') ?? 0) + 1);
      } catch (e) {
        const err = callError(e);
        stats.garbageCodes.set(err.codeName, (stats.garbageCodes.get(err.codeName) ?? 0) + 1);
        assert.notEqual(err.kvsError, 'INTERNAL', `garbage to ${op.method} hit an unexpected server error: ${err.details}`);
      }
      return;
    }
    stats.invalid++;
    const key = Buffer.concat([prefix, Buffer.from(`bad${op.n}`)]);
    const codes = EXPECTED[op.what];
    const unknownTxn = `no-such-txn-${op.n}`;
    const call = ((): Promise<unknown> => {
      switch (op.what) {
        case 'put-empty-key':
          return kv.put({ key: Buffer.alloc(0), value: Buffer.from('x') });
        case 'get-empty-key':
          return kv.get({ key: Buffer.alloc(0) });
        case 'delete-empty-key':
          return kv.delete({ key: Buffer.alloc(0) });
        case 'put-key-too-long':
          return kv.put({ key: Buffer.alloc(MAX_KEY + 1 + op.n, 0x61), value: Buffer.from('x') });
        case 'get-key-too-long':
          return kv.get({ key: Buffer.alloc(MAX_KEY + 1, 0x62) });
        case 'put-value-too-long':
          return kv.put({ key, value: Buffer.alloc(MAX_VALUE + 1 + op.n) });
        case 'scan-start-after-end':
          return kv.scan({ start: Buffer.concat([prefix, Buffer.from('z')]), end: Buffer.concat([prefix, Buffer.from('a')]) });
        case 'scan-prefix-and-start':
          return kv.scan({ prefix, start: Buffer.concat([prefix, Buffer.from('a')]) });
        case 'delrange-unbounded':
          return kv.deleteRange({});
        case 'get-unknown-txn':
          return kv.get({ key, txnId: unknownTxn });
        case 'commit-unknown-txn':
          return kv.commit({ txnId: unknownTxn });
        case 'commit-unknown-txn-session':
          return kv.commit({ txnId: unknownTxn, header: { clientId: `fuzz-fence-${op.n}`, seq: 1, firstUnacked: 1 } });
        case 'put-unknown-txn':
          return kv.put({ key, value: Buffer.from('x'), txnId: unknownTxn });
        case 'get-malformed-txn':
          return kv.get({ key, txnId: `bad txn id ${op.n}!` });
        case 'seq-without-client':
          return kv.put({ key, value: Buffer.from('x'), header: { seq: 1 + op.n } });
        case 'first-unacked-above-seq':
          return kv.put({ key, value: Buffer.from('x'), header: { clientId: 'fuzz', seq: 1, firstUnacked: 2 + op.n } });
        case 'cas-absent-and-expected':
          return kv.put({ key, value: Buffer.from('x'), expectAbsent: true, hasExpected: true, expectedValue: Buffer.from('y') });
        case 'batch-empty-key':
          return kv.batch({ mutations: [{ op: 'PUT', key, value: Buffer.from('ok') }, { op: 'PUT', key: Buffer.alloc(0), value: Buffer.from('x') }] });
        case 'get-txn-and-snapshot':
          return kv.get({ key, txnId: unknownTxn, snapshotTs: 5 });
        case 'put-in-read-only-txn':
          return (async () => {
            const { txnId } = await kv.begin({ readOnly: true });
            try {
              await kv.put({ key, value: Buffer.from('x'), txnId });
            } finally {
              await kv.rollback({ txnId }).catch(() => undefined);
            }
          })();
      }
    })();
    await expectError(call, codes, op.what);
  }

  it('answers valid requests like the model and rejects malformed ones (property-based, 3 concurrent sequences)', async function () {
    const seed = testSeed('fuzz');
    let run = 0;
    const opsArb = fc.array(fc.oneof({ arbitrary: validArb, weight: 4 }, { arbitrary: invalidArb, weight: 1 }), { minLength: 5, maxLength: 30 });
    await fc.assert(
      // Three sequences run concurrently, each in its own key prefix with its own model: the answers
      // must not depend on what the other requests in the same group commit were doing.
      fc.asyncProperty(fc.tuple(opsArb, opsArb, opsArb), async (seqs) => {
        const r = run++;
        await Promise.all(
          seqs.map(async (ops, lane) => {
            const prefix = Buffer.from(`fz/${seed}/${r}/${lane}/`);
            const model: Model = new Map();
            for (const op of ops) {
              if (op.t === 'bad' || op.t === 'garbage') await runInvalid(op, prefix);
              else await runValid(op, prefix, model);
            }
            // The final state equals the model.
            const end = Buffer.concat([prefix.subarray(0, prefix.length - 1), Buffer.from([prefix[prefix.length - 1]! + 1])]);
            const all = await kv.scan({ start: prefix, end, limit: MAX_SCAN_LIMIT });
            assert.deepEqual(all.kvs.map((x) => hex(x.key)).sort(), [...model.keys()].sort(), `final state of lane ${lane}`);
          }),
        );
      }),
      { numRuns: 40, seed, verbose: 1, endOnFailure: true },
    );
    await assertAlive();
    console.log(`      ${stats.valid} valid, ${stats.invalid} malformed, ${stats.garbage} garbage requests; garbage answers ${JSON.stringify(Object.fromEntries(stats.garbageCodes))}`);
  });

  it('survives garbage bytes as request messages on every method', async function () {
    const methods = ['Get', 'Put', 'Delete', 'DeleteRange', 'Scan', 'Batch', 'Begin', 'Commit', 'Rollback', 'Status', 'NoSuchMethod'];
    // Structured garbage: truncated varints, huge length prefixes, wrong wire types, deep nesting, random.
    const samples: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x0a]),
      Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x0d, 1, 2]),
      Buffer.from([0x0a, 0x02, 0x0a, 0x7f]),
      Buffer.concat(Array.from({ length: 200 }, () => Buffer.from([0x0a, 0x7f]))),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from('not a protobuf at all \u0000\u0001'),
    ];
    for (let i = 0; i < 20; i++) samples.push(randomBytes(1 + Math.floor(Math.random() * 200)));
    const codes = new Map<string, number>();
    const internal: string[] = [];
    for (const m of methods) {
      for (const s of samples) {
        // Skip what a random message might turn into a destructive request outside the fuzz prefix.
        if (m === 'DeleteRange' || m === 'Batch') {
          if (s.length > 12) continue;
        }
        try {
          await kv.rawCall(m, s, { timeoutMs: 5000 });
          codes.set('OK', (codes.get('OK') ?? 0) + 1);
        } catch (e) {
          const err = callError(e);
          codes.set(err.codeName, (codes.get(err.codeName) ?? 0) + 1);
          if (err.kvsError === 'INTERNAL') internal.push(`${m} ${s.toString('hex').slice(0, 40)}: ${err.details}`);
          if (m === 'NoSuchMethod') assert.equal(err.code, status.UNIMPLEMENTED);
        }
      }
    }
    console.log(`      garbage answers: ${JSON.stringify(Object.fromEntries(codes))}`);
    assert.deepEqual(internal, [], 'no unexpected server errors');
    await assertAlive();
  });

  it('rejects an over-limit message and survives raw TCP garbage on the gRPC port', async function () {
    // Beyond grpc max_receive_message_length (8 MiB): RESOURCE_EXHAUSTED, not a crash.
    await expectError(kv.put({ key: Buffer.from('fz/huge'), value: Buffer.alloc(9 * 1024 * 1024) }, { timeoutMs: 20_000 }), [status.RESOURCE_EXHAUSTED, status.INVALID_ARGUMENT], 'oversized message');
    // A batch above the mutation limit.
    await expectError(
      kv.batch({ mutations: Array.from({ length: 10_001 }, (_, i) => ({ op: 'PUT', key: Buffer.from(`fz/many/${i}`), value: Buffer.alloc(0) })) }),
      [status.INVALID_ARGUMENT],
      'too many mutations',
    );
    // Not HTTP/2 at all: an HTTP/1 request, random bytes, a truncated HTTP/2 preface.
    const payloads = [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), randomBytes(4096), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(512)])];
    for (const p of payloads) {
      await new Promise<void>((resolve) => {
        const s = connect({ host: f.node.host, port: f.node.grpcPort }, () => s.end(p));
        s.on('data', () => undefined);
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(3000, () => s.destroy());
      });
    }
    await assertAlive();
    // Still serving.
    await kv.put({ key: Buffer.from('fz/after'), value: Buffer.from('ok') });
    assert.equal((await kv.get({ key: Buffer.from('fz/after') })).value.toString(), 'ok');
  });
});
