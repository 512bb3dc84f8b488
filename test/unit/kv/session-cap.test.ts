// The exactly-once session table is capped (issue 10 item 4). When it is full, the least recently active
// session (by command timestamps, ties by client id: the same choice on every replica) is evicted if it
// has been idle for minEvictIdleMs; otherwise the new session's command is refused with OVERLOADED and
// nothing is applied. A retry of an evicted session's request fails with SESSION_EXPIRED, never applies twice.
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import type { Engine } from '../../../node/src/engine/engine.js';
import { resultError, type Command, type CommandResult } from '../../../node/src/kv/commands.js';
import { OverloadedError } from '../../../node/src/kv/errors.js';
import { StateMachine, TS_PER_MS } from '../../../node/src/kv/state-machine.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const MS = TS_PER_MS;
const OPTS = { maxSessions: 3, minEvictIdleMs: 10 };
const put = (client: string, seq: number, firstUnacked: number, ms: number, key = `${client}/${seq}`): Command => ({
  type: 'put',
  proposedTs: ms * MS,
  key: b(key),
  value: b(`${client}${seq}`),
  session: { clientId: client, seq, firstUnacked },
});

/** Applies one command per group; with `reopen`, a fresh state machine over the same engine each time (a restarted replica). */
async function run(engine: Engine, cmds: readonly Command[], reopen: boolean): Promise<CommandResult[]> {
  let sm = await StateMachine.open(engine, OPTS);
  const out: CommandResult[] = [];
  for (const c of cmds) {
    if (reopen) sm = await StateMachine.open(engine, OPTS);
    out.push(...(await sm.applyAndWrite([c])).results);
  }
  return out;
}

describe('kv: session table cap', () => {
  it('full and nobody idle long enough: a new session is refused with OVERLOADED and nothing is applied', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, OPTS);
    for (const [i, c] of ['a', 'b', 'c'].entries()) await sm.applyAndWrite([put(c, 1, 1, 100 + i)]);
    const r = (await sm.applyAndWrite([put('d', 1, 1, 105)])).results[0]!;
    assert.equal(r.type, 'error');
    assert.equal(r.type === 'error' && r.code, 'OVERLOADED');
    assert.ok(r.type === 'error' && resultError(r) instanceof OverloadedError);
    assert.match(r.type === 'error' ? r.message : '', /session table is full \(3 sessions, none idle for 10 ms\); retry later/);
    assert.equal(await mvccGet(engine, b('d/1'), Number.MAX_SAFE_INTEGER), undefined);
    assert.equal(sm.sessionCount, 3);
  });

  it('full: the least recently active idle session is evicted; its retry gets SESSION_EXPIRED, never a second apply', async () => {
    const engine = new MemoryEngine();
    const sm = await StateMachine.open(engine, OPTS);
    await sm.applyAndWrite([put('b', 1, 1, 100), put('a', 1, 1, 100)]);
    await sm.applyAndWrite([put('a', 2, 2, 101)]); // a is now more recent than b
    await sm.applyAndWrite([put('c', 1, 1, 105)]);
    // 10 ms after b's last command: b may go.
    const d = (await sm.applyAndWrite([put('d', 1, 1, 111)])).results[0]!;
    assert.equal(d.type, 'put');
    assert.equal(sm.sessionCount, 3);
    assert.equal(sm.sessionResult('b', 1), undefined, 'b was evicted');
    assert.ok(sm.sessionResult('a', 2) !== undefined && sm.sessionResult('c', 1) !== undefined);
    // b's client retries its applied request: SESSION_EXPIRED (the tombstone), b/1 not written twice.
    const v1 = (await mvccGet(engine, b('b/1'), Number.MAX_SAFE_INTEGER))!.version;
    const retry = (await sm.applyAndWrite([put('b', 1, 1, 112)])).results[0]!;
    assert.equal(retry.type === 'error' && retry.code, 'SESSION_EXPIRED');
    assert.equal((await mvccGet(engine, b('b/1'), Number.MAX_SAFE_INTEGER))!.version, v1);
    // Evicted sessions leave only their tombstone: a reopened state machine sees the same table.
    const sm2 = await StateMachine.open(engine, OPTS);
    assert.equal(sm2.sessionCount, 3);
    assert.equal(sm2.sessionResult('b', 1), undefined);
    const retry2 = (await sm2.applyAndWrite([put('b', 1, 1, 113)])).results[0]!;
    assert.equal(retry2.type === 'error' && retry2.code, 'SESSION_EXPIRED');
  });

  it('deterministic: the same commands give the same results on a replica restarted before every command', async () => {
    const cmds: Command[] = [];
    const seqs = new Map<string, number>();
    let ms = 100;
    for (let i = 0; i < 60; i++) {
      const client = `c${(i * 7) % 9}`;
      const seq = (seqs.get(client) ?? 0) + 1;
      seqs.set(client, seq);
      ms += i % 4 === 0 ? 6 : 1;
      cmds.push(put(client, seq, seq, ms, `k${i}`));
    }
    const straight = await run(new MemoryEngine(), cmds, false);
    const restarted = await run(new MemoryEngine(), cmds, true);
    assert.deepEqual(restarted, straight);
    const codes = straight.map((r) => (r.type === 'error' ? r.code : r.type));
    assert.ok(codes.includes('OVERLOADED') && codes.includes('put'), codes.join(','));
  });
});
