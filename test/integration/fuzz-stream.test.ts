// fast-check fuzzing of kvs.v1.Kv/BatchStream on a running node (the fuzz-node.test.ts style, for the
// multiplexed RPC): random frames mixing valid sub-requests (checked against an in-memory model) with
// malformed ones (garbage bodies, broken envelopes, unknown methods, validation failures), then garbage
// as whole frames. Every well-formed sub-request gets exactly one reply with its id; malformed ones get
// INVALID_ARGUMENT (never INTERNAL); an unparseable frame ends only its own stream with
// INVALID_ARGUMENT; the node never crashes (same pid, /healthz OK).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { loadKvProto } from '../../node/src/common/proto.js';
import { encodeRequestItem, type DecodedSubResponse, type StreamMethod } from '../../node/src/common/stream-frames.js';
import { RawBatchStream } from '../helpers/raw-batch-stream.js';
import { testSeed, useNode } from './support/fixture.js';

const svc = loadKvProto().kvs.v1.Kv.service;
const ser = (m: StreamMethod, v: unknown): Buffer => (svc[m]!.requestSerialize as (x: unknown) => Buffer)(v);
const des = (m: StreamMethod, b: Buffer): Record<string, unknown> => (svc[m]!.responseDeserialize as (x: Buffer) => Record<string, unknown>)(b);

type ValidOp = { t: 'put'; k: number; v: Uint8Array } | { t: 'get'; k: number } | { t: 'del'; k: number } | { t: 'cas-absent'; k: number; v: Uint8Array };
type BadOp =
  | { t: 'garbage-body'; method: 'Get' | 'Scan' | 'Status'; bytes: Uint8Array }
  | { t: 'broken-envelope'; bytes: Uint8Array }
  | { t: 'no-method' }
  | { t: 'unknown-method' }
  | { t: 'empty-key' }
  | { t: 'bad-txn-id' };

const validArb: fc.Arbitrary<ValidOp> = fc.oneof(
  fc.record({ t: fc.constant('put' as const), k: fc.nat(15), v: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ t: fc.constant('get' as const), k: fc.nat(15) }),
  fc.record({ t: fc.constant('del' as const), k: fc.nat(15) }),
  fc.record({ t: fc.constant('cas-absent' as const), k: fc.nat(15), v: fc.uint8Array({ maxLength: 16 }) }),
);
const badArb: fc.Arbitrary<BadOp> = fc.oneof(
  fc.record({ t: fc.constant('garbage-body' as const), method: fc.constantFrom('Get' as const, 'Scan' as const, 'Status' as const), bytes: fc.uint8Array({ maxLength: 48 }) }),
  fc.record({ t: fc.constant('broken-envelope' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({ t: fc.constant('no-method' as const) }),
  fc.record({ t: fc.constant('unknown-method' as const) }),
  fc.record({ t: fc.constant('empty-key' as const) }),
  fc.record({ t: fc.constant('bad-txn-id' as const) }),
);

/** A frame item from raw StreamSubRequest bytes. */
function rawItem(sub: Buffer): Buffer {
  const len: number[] = [];
  let n = sub.length;
  while (n >= 128) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), sub]);
}

describe('fuzzing BatchStream on a running node (fast-check)', function () {
  this.timeout(240_000);
  const f = useNode();
  let pid: number;
  const stats = { frames: 0, valid: 0, bad: 0, streamsEnded: 0, codes: new Map<string, number>() };

  before(function () {
    pid = f.node.pid!;
  });

  const assertAlive = async (): Promise<void> => {
    assert.ok(f.node.running, `node exited: ${JSON.stringify(f.node.exitInfo)}\n${f.node.logTail()}`);
    assert.equal(f.node.pid, pid, 'node restarted?');
    assert.ok(await f.node.healthz(), '/healthz not OK');
  };

  it('frames of valid and malformed sub-requests: model-checked answers, one reply per id, no INTERNAL', async function () {
    const seed = testSeed('fuzz-stream');
    let run = 0;
    // Within one frame every key appears at most once, so the frame's answers follow from the model
    // state before it (sub-requests of a frame run concurrently).
    const frameArb = fc.array(fc.oneof({ arbitrary: validArb, weight: 3 }, { arbitrary: badArb, weight: 1 }), { minLength: 1, maxLength: 24 });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 6 }), async (frames) => {
        const prefix = `fzs/${seed}/${run++}/`;
        const key = (k: number) => Buffer.from(`${prefix}${k}`);
        const model = new Map<number, Buffer>();
        const s = new RawBatchStream(f.node.address);
        try {
          let nextId = 1;
          for (const ops of frames) {
            const seen = new Set<number>();
            const items: Buffer[] = [];
            const expect = new Map<number, (r: DecodedSubResponse) => void>();
            const after: Array<() => void> = [];
            for (const op of ops) {
              const id = nextId++;
              if (op.t === 'put' || op.t === 'get' || op.t === 'del' || op.t === 'cas-absent') {
                if (seen.has(op.k)) continue;
                seen.add(op.k);
                stats.valid++;
                const cur = model.get(op.k);
                if (op.t === 'put') {
                  items.push(encodeRequestItem(id, 5000, 'Put', ser('Put', { key: key(op.k), value: Buffer.from(op.v) })));
                  expect.set(id, (r) => assert.equal(des('Put', ok(r, 'Put')).succeeded, true));
                  after.push(() => model.set(op.k, Buffer.from(op.v)));
                } else if (op.t === 'get') {
                  items.push(encodeRequestItem(id, 5000, 'Get', ser('Get', { key: key(op.k) })));
                  expect.set(id, (r) => {
                    const g = des('Get', ok(r, 'Get'));
                    assert.equal(g.found, cur !== undefined, `get ${op.k}`);
                    if (cur) assert.ok((g.value as Buffer).equals(cur), `get ${op.k} value`);
                  });
                } else if (op.t === 'del') {
                  items.push(encodeRequestItem(id, 5000, 'Delete', ser('Delete', { key: key(op.k) })));
                  expect.set(id, (r) => assert.equal(des('Delete', ok(r, 'Delete')).deleted, cur !== undefined, `delete ${op.k}`));
                  after.push(() => model.delete(op.k));
                } else {
                  items.push(encodeRequestItem(id, 5000, 'Put', ser('Put', { key: key(op.k), value: Buffer.from(op.v), expectAbsent: true })));
                  expect.set(id, (r) => assert.equal(des('Put', ok(r, 'Put')).succeeded, cur === undefined, `cas-absent ${op.k}`));
                  if (cur === undefined) after.push(() => model.set(op.k, Buffer.from(op.v)));
                }
                continue;
              }
              stats.bad++;
              const invalid = (r: DecodedSubResponse) => {
                assert.ok(r.error, `${op.t}: expected an error`);
                count(r.error.errorCode ?? String(r.error.code));
                assert.equal(r.error.code, grpc.status.INVALID_ARGUMENT, `${op.t}: ${r.error.message}`);
                assert.ok(r.error.message.length > 0);
              };
              switch (op.t) {
                case 'garbage-body':
                  items.push(encodeRequestItem(id, 5000, op.method, Buffer.from(op.bytes)));
                  expect.set(id, (r) => {
                    count(r.error ? (r.error.errorCode ?? String(r.error.code)) : 'OK');
                    if (r.error) assert.notEqual(r.error.errorCode, 'INTERNAL', `garbage ${op.method}: ${r.error.message}`);
                  });
                  break;
                case 'broken-envelope':
                  // request_id, then a length-delimited put field that runs past the end of the sub-request.
                  items.push(rawItem(Buffer.concat([Buffer.from([0x08, ...varint(id), (11 << 3) | 2, 100 + op.bytes.length]), Buffer.from(op.bytes)])));
                  expect.set(id, invalid);
                  break;
                case 'no-method':
                  items.push(rawItem(Buffer.from([0x08, ...varint(id), 0x10, 0x05])));
                  expect.set(id, invalid);
                  break;
                case 'unknown-method':
                  items.push(rawItem(Buffer.from([0x08, ...varint(id), 0xca, 0x01, 0x00])));
                  expect.set(id, invalid);
                  break;
                case 'empty-key':
                  items.push(encodeRequestItem(id, 5000, 'Put', ser('Put', { key: Buffer.alloc(0), value: Buffer.from('x') })));
                  expect.set(id, invalid);
                  break;
                case 'bad-txn-id':
                  items.push(encodeRequestItem(id, 5000, 'Get', ser('Get', { key: key(0), txnId: 'not a txn!' })));
                  expect.set(id, invalid);
                  break;
              }
            }
            if (items.length === 0) continue;
            stats.frames++;
            s.send(Buffer.concat(items));
            await s.until(() => [...expect.keys()].every((id) => s.replies.has(id)) || s.status !== undefined, 'the replies of a frame');
            assert.equal(s.status, undefined, `stream ended: ${JSON.stringify(s.status)}`);
            for (const [id, check] of expect) {
              const rs = s.replies.get(id)!;
              assert.equal(rs.length, 1, `request ${id} answered ${rs.length} times`);
              check(rs[0]!);
            }
            for (const a of after) a();
          }
          assert.deepEqual([...s.replies.keys()].filter((id) => id >= nextId), [], 'no reply for an id never sent');
        } finally {
          s.close();
        }
      }),
      { numRuns: 60, seed, verbose: 1, endOnFailure: true },
    );
    await assertAlive();
    console.log(`      ${stats.frames} frames, ${stats.valid} valid and ${stats.bad} malformed sub-requests; answers to malformed/garbage ${JSON.stringify(Object.fromEntries(stats.codes))}`);
  });

  it('garbage as whole frames: the stream answers or ends with INVALID_ARGUMENT, other streams and the node carry on', async function () {
    const samples: Buffer[] = [
      Buffer.from([0x0a]),
      Buffer.from([0x0a, 0x05, 0x08]),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x0b, 0x0c]),
      Buffer.from([0x0d, 1, 2]),
      Buffer.concat(Array.from({ length: 200 }, () => Buffer.from([0x0a, 0x00]))),
      Buffer.from('not a protobuf at all \u0000\u0001'),
    ];
    for (let i = 0; i < 40; i++) samples.push(randomBytes(1 + Math.floor(Math.random() * 200)));
    // A healthy stream that lives through all of it.
    const healthy = new RawBatchStream(f.node.address);
    let hid = 1;
    const codes = new Map<string, number>();
    for (const frame of samples) {
      const s = new RawBatchStream(f.node.address);
      try {
        s.send(frame);
        // Then a valid request on the same stream: answered unless the garbage ended the stream.
        s.send(encodeRequestItem(999_999, 5000, 'Status', ser('Status', {})));
        await s.until(() => s.status !== undefined || s.replies.has(999_999), 'an answer or the end of the stream');
        if (s.status) {
          codes.set(`ended ${grpc.status[s.status.code]}`, (codes.get(`ended ${grpc.status[s.status.code]}`) ?? 0) + 1);
          assert.equal(s.status.code, grpc.status.INVALID_ARGUMENT, `${frame.toString('hex').slice(0, 40)}: ${s.status.details}`);
          assert.match(s.status.details, /unparseable BatchStream frame/);
          stats.streamsEnded++;
        } else {
          codes.set('served', (codes.get('served') ?? 0) + 1);
          for (const [, rs] of s.replies) for (const r of rs) if (r.error) assert.notEqual(r.error.errorCode, 'INTERNAL', r.error.message);
        }
      } finally {
        s.close();
      }
      const id = hid++;
      healthy.send(encodeRequestItem(id, 5000, 'Status', ser('Status', {})));
      await healthy.until(() => healthy.replies.has(id), 'the healthy stream');
    }
    assert.equal(healthy.status, undefined, 'the healthy stream survived');
    healthy.close();
    console.log(`      whole-frame garbage: ${JSON.stringify(Object.fromEntries(codes))}`);
    await assertAlive();
  });

  function count(code: string): void {
    stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
  }
});

function ok(r: DecodedSubResponse, m: StreamMethod): Buffer {
  assert.equal(r.error, undefined, `${m} failed: ${JSON.stringify(r.error)}`);
  assert.equal(r.method, m);
  return r.body!;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
