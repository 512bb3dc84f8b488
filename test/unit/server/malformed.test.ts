import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startTestNode } from '../../helpers/test-node.js';

function rawCall(endpoint: string, method: string, bytes: Buffer): Promise<{ code: number; details: string; kvsError: string | undefined }> {
  const c = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    c.makeUnaryRequest(
      `/kvs.v1.Kv/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err) => {
        c.close();
        const md = err?.metadata?.get('kvs-error')[0];
        resolve({ code: err ? err.code : 0, details: err?.details ?? '', kvsError: md === undefined ? undefined : String(md) });
      },
    );
  });
}

describe('server: undecodable request messages', function () {
  this.timeout(10_000);
  it('→ INVALID_ARGUMENT naming the request, not INTERNAL', async () => {
    const t = await startTestNode();
    // field 2 (key, length-delimited) claiming 100 bytes with 1 present
    const r = await rawCall(t.endpoint, 'Get', Buffer.from([0x12, 0x64, 0x41]));
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(r.kvsError, 'INVALID_ARGUMENT');
    assert.match(r.details, /^request: malformed protobuf message for Get/);
    const ok = await rawCall(t.endpoint, 'Status', Buffer.alloc(0));
    assert.equal(ok.code, 0);
    await t.stop();
  });
});
