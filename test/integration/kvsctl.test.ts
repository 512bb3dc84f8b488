// kvsctl end to end against a real kvs-node process: `kvsctl put a 1 && kvsctl get a` prints 1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useNode } from './support/fixture.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);

describe('kvsctl against a real node', function () {
  this.timeout(60_000);
  const f = useNode();

  const kvsctl = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const r = await run(process.execPath, [KVSCTL, '--endpoints', f.node.address, ...args], { timeout: 20_000, env: { ...process.env, KVS_ENDPOINTS: '' } });
      return { ...r, code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : -1 };
    }
  };

  it('put a 1 && get a prints 1', async function () {
    const put = await kvsctl('put', 'a', '1');
    assert.equal(put.code, 0, put.stderr);
    const get = await kvsctl('get', 'a');
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, '1\n');
  });

  it('through a shell: kvsctl put a 1 && kvsctl get a', async function () {
    const cmd = `"${process.execPath}" "${KVSCTL}" --endpoints ${f.node.address} put sh-a 1 && "${process.execPath}" "${KVSCTL}" --endpoints ${f.node.address} get sh-a`;
    const r = await run('sh', ['-c', cmd], { timeout: 30_000 });
    // put acknowledges with "OK" (like etcdctl); get prints the value.
    assert.deepEqual(r.stdout.trimEnd().split('\n'), ['OK', '1']);
  });

  it('scan, conditional put and status work; a missing key with --require exits 3', async function () {
    assert.equal((await kvsctl('put', 'p/1', 'x')).code, 0);
    assert.equal((await kvsctl('put', 'p/2', 'y')).code, 0);
    const scan = await kvsctl('scan', '--prefix', 'p/');
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stdout, /p\/1[\s\S]*x[\s\S]*p\/2[\s\S]*y/);
    assert.equal((await kvsctl('put', '--if-absent', 'p/1', 'z')).code, 3);
    assert.equal((await kvsctl('get', '--require', 'nope')).code, 3);
    const st = await kvsctl('--json', 'status');
    assert.equal(st.code, 0, st.stderr);
    assert.ok(JSON.parse(st.stdout), 'status prints JSON');
  });

  it('reports an unreachable endpoint as exit 1 with one line on stderr', async function () {
    const r = await run(process.execPath, [KVSCTL, '--endpoints', '127.0.0.1:1', '--timeout', '500ms', 'get', 'a'], { timeout: 20_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kvsctl: /);
  });
});
