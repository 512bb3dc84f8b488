// Parallel commits in the state machine (kv/state-machine.ts, docs/ARCHITECTURE.md "Transactions across
// ranges"): the primary's staging prepare, its check (`staging` with the participants, never an abort),
// a participant's check (prepared, or prevented for good), and the session's stored result settled with
// the outcome. Several state machines stand for several ranges; the recovery's decision rule is applied
// by hand here (raftstore/lock-resolver.ts runs it for real; test/unit/raftstore/txn-recovery.test.ts).
import { strict as assert } from 'node:assert';
import { MemoryEngine } from '../../../node/src/engine/memory-engine.js';
import { decodeCommand, encodeCommand, type Command, type CommandResult } from '../../../node/src/kv/commands.js';
import { StateMachine } from '../../../node/src/kv/state-machine.js';
import { decodeLock, encodeLock, type TxnLock } from '../../../node/src/kv/txn-locks.js';
import { fenceOutcome } from '../../../node/src/kv/txn-steps.js';
import { mvccGet } from '../../../node/src/mvcc/mvcc.js';
import type { Mutation, Session } from '../../../node/src/kv/api.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const put = (k: string, v: string): Mutation => ({ op: 'put', key: b(k), value: b(v) });
const session = (seq: number): Session => ({ clientId: 'c1', seq, firstUnacked: seq });

async function apply1(sm: StateMachine, cmd: Command): Promise<CommandResult> {
  return (await sm.applyAndWrite([cmd])).results[0]!;
}

function status(r: CommandResult): string {
  if (r.type === 'txnStatus') return `${r.state}@${r.ts}`;
  if (r.type === 'error') return r.code;
  return r.type;
}

function prepare(txnId: string, ts: number, writes: Mutation[], o: { participants?: string[]; session?: Session; ttl?: number } = {}): Command {
  const c: Command = { type: 'txnPrepare', proposedTs: ts, txnId, startTs: 5, primary: b('a'), ttlTs: o.ttl ?? 100, readKeys: [], readRanges: [], writes };
  if (o.participants !== undefined) c.participants = o.participants.map(b);
  if (o.session !== undefined) c.session = o.session;
  return c;
}

const check = (txnId: string, ts: number, force = false): Command => ({ type: 'txnCheck', proposedTs: ts, txnId, primary: b('a'), ...(force ? { force: true } : {}) });
const checkPart = (txnId: string, ts: number, key: string): Command => ({ type: 'txnCheckPart', proposedTs: ts, txnId, key: b(key) });

/** The recovery's rule (lock-resolver.ts decide): every participant prepared → commit at the max prepare ts. */
async function recover(primary: StateMachine, parts: Array<{ sm: StateMachine; key: string }>, txnId: string, ts: number, applyCheck = true): Promise<string> {
  const st = await apply1(primary, check(txnId, ts, true));
  assert.ok(st.type === 'txnStatus' && st.state === 'staging', `staging expected, got ${status(st)}`);
  let commitTs = st.ts;
  let prevented = false;
  for (const p of parts) {
    // applyCheck false = the unsafe variant: look at the lock table without the replicated check (no prevention).
    const r = applyCheck ? await apply1(p.sm, checkPart(txnId, ts, p.key)) : p.sm.locks.locksOf(txnId).length > 0 ? ({ type: 'txnStatus', state: 'prepared', ts: p.sm.locks.locksOf(txnId)[0]!.prepTs, txnId } as CommandResult) : ({ type: 'txnStatus', state: 'aborted', ts, txnId } as CommandResult);
    if (r.type === 'txnStatus' && r.state === 'prepared') commitTs = Math.max(commitTs, r.ts);
    else prevented = true;
  }
  const decided = prevented
    ? await apply1(primary, { type: 'txnRollbackLocks', proposedTs: ts, txnId, primary: b('a') })
    : await apply1(primary, { type: 'txnCommitLocks', proposedTs: ts, txnId, commitTs, primary: b('a') });
  return status(decided);
}

describe('parallel commits (state machine)', () => {
  it('a staging prepare locks its part like a prepare and keeps the participants and the session in the primary lock (survives a restart)', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e);
    const r = await apply1(sm, prepare('t1', 20, [put('a', '1'), put('b', '2')], { participants: ['m', 'x'], session: session(3) }));
    assert.equal(status(r), 'prepared@20');
    assert.ok(r.type === 'txnStatus' && r.primary?.equals(b('a')), 'the staging answer names its primary');
    const pl = sm.locks.locksOf('t1').find((l) => l.key.equals(b('a')));
    assert.deepEqual(pl?.staging?.participants.map(String), ['m', 'x']);
    assert.deepEqual(pl?.staging?.session, { clientId: 'c1', seq: 3 });
    assert.equal(sm.locks.locksOf('t1').find((l) => l.key.equals(b('b')))?.staging, undefined);
    const again = await StateMachine.open(e);
    assert.deepEqual(again.locks.locksOf('t1').find((l) => l.key.equals(b('a')))?.staging?.participants.map(String), ['m', 'x']);
    // A staging prepare must write its primary key (the primary lock carries the participants).
    assert.equal(status(await apply1(sm, { ...prepare('t2', 30, [put('c', '3')], { participants: ['m'] }), primary: b('zz') } as Command)), 'INVALID_ARGUMENT');
  });

  it('check of a staging transaction: alive during its TTL; then (or forced) `staging` with its participants — never an abort, nothing changed', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', 100, [put('a', '1')], { participants: ['m'], ttl: 100 }));
    assert.equal(status(await apply1(sm, check('t1', 150))), 'alive@200');
    const forced = await apply1(sm, check('t1', 150, true));
    assert.equal(status(forced), 'staging@100');
    assert.ok(forced.type === 'txnStatus' && forced.participants?.[0]?.equals(b('m')) && forced.primary?.equals(b('a')));
    assert.equal(status(await apply1(sm, check('t1', 300))), 'staging@100');
    assert.equal(sm.locks.lockCount, 1, 'the check leaves the locks alone');
    assert.equal(sm.locks.record('t1'), undefined);
    // Not staging (a one-phase primary, or an older coordinator's): forced means aborted now.
    assert.equal(status(await apply1(sm, check('other', 150, true))).split('@')[0], 'aborted');
  });

  it('a participant check answers prepared (a point or range lock), else prevents the part: its later prepare is refused', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', 40, [put('m', '1')]));
    assert.equal(status(await apply1(sm, checkPart('t1', 50, 'm'))), 'prepared@40');
    // A range lock proves a scan-only part.
    await apply1(sm, { type: 'txnPrepare', proposedTs: 60, txnId: 't3', startTs: 5, primary: b('a'), ttlTs: 100, readKeys: [], readRanges: [{ start: b('n'), end: b('p') }], writes: [] });
    assert.equal(status(await apply1(sm, checkPart('t3', 61, 'n'))), 'prepared@60');
    // Not prepared here: prevented (an aborted record), and the answer stays.
    const r = await apply1(sm, checkPart('t2', 70, 'q'));
    assert.equal(status(r).split('@')[0], 'aborted');
    assert.equal(status(await apply1(sm, checkPart('t2', 80, 'q'))), status(r));
    assert.equal(status(await apply1(sm, prepare('t2', 90, [put('q', '1')]))), 'TXN_CONFLICT', 'a late prepare of a prevented part is refused');
    assert.equal(sm.locks.locksOf('t2').length, 0);
  });

  it('after a split the range holding the participant key answers: its lock moved there, and so does a prevention record', async () => {
    const e = new MemoryEngine();
    const sm = await StateMachine.open(e, { groupId: 7 });
    sm.setDescriptor({ rangeId: 7, start: Buffer.alloc(0), end: Buffer.alloc(0), epoch: { confVer: 1, version: 1 }, replicas: [{ storeId: 1, peerId: 1, role: 'voter' }] });
    await apply1(sm, prepare('t1', 20, [put('b', '1'), put('x', '1')])); // a part whose participant key is x
    assert.match(status(await apply1(sm, checkPart('t2', 21, 'y'))), /^aborted@/); // t2's part at y prevented
    assert.equal((await apply1(sm, { type: 'split', proposedTs: 22, splitKey: b('m'), newRangeId: 8, expectVersion: 1 })).type, 'split');
    const right = await StateMachine.open(e, { groupId: 8 });
    assert.equal(status(await apply1(right, checkPart('t1', 23, 'x'))), 'prepared@20');
    assert.equal(status(await apply1(right, prepare('t2', 24, [put('y', '1')]))), 'TXN_CONFLICT', 'the prevention moved with its key');
    assert.equal(sm.locks.record('t2'), undefined, 'and left the left half');
  });

  it('recovery: every part prepared → committed at the largest prepare ts; a part never prepared → prevented and aborted; the coordinator and the recovery agree whichever comes first', async () => {
    // Committed: the primary staged at 20, the participant prepared at 35 (its range is ahead).
    const p1 = await StateMachine.open(new MemoryEngine());
    const s1 = await StateMachine.open(new MemoryEngine());
    await apply1(p1, prepare('t1', 20, [put('a', 'A')], { participants: ['x'] }));
    await apply1(s1, prepare('t1', 35, [put('x', 'X')]));
    assert.equal(await recover(p1, [{ sm: s1, key: 'x' }], 't1', 400), 'committed@35');
    assert.equal((await mvccGet(p1['engine' as never] as never, b('a'), 35))!.value.toString(), 'A');
    // The coordinator's explicit commit arriving later is answered by the record (same commit ts).
    assert.equal(status(await apply1(p1, { type: 'txnCommitLocks', proposedTs: 410, txnId: 't1', commitTs: 35, primary: b('a') })), 'committed@35');

    // Aborted: the participant's prepare had not applied when the recovery asked; it arrives after.
    const p2 = await StateMachine.open(new MemoryEngine());
    const s2 = await StateMachine.open(new MemoryEngine());
    await apply1(p2, prepare('t2', 20, [put('a', 'A')], { participants: ['x'] }));
    assert.match(await recover(p2, [{ sm: s2, key: 'x' }], 't2', 400), /^aborted@/);
    assert.equal(status(await apply1(s2, prepare('t2', 410, [put('x', 'X')]))), 'TXN_CONFLICT', 'the late prepare cannot make it committed');
    assert.equal(s2.locks.lockCount, 0);
    // The coordinator, had it seen every prepare succeed, would now meet the record: its commit is refused.
    assert.equal(status(await apply1(p2, { type: 'txnCommitLocks', proposedTs: 420, txnId: 't2', commitTs: 20, primary: b('a') })), 'TXN_CONFLICT');

    // The coordinator recorded the commit first: a recovery that then finds the part's lock gone
    // (committed behind the record) prevents nothing that matters — the rollback answers committed.
    const p3 = await StateMachine.open(new MemoryEngine());
    const s3 = await StateMachine.open(new MemoryEngine());
    await apply1(p3, prepare('t3', 20, [put('a', 'A')], { participants: ['x'] }));
    await apply1(s3, prepare('t3', 30, [put('x', 'X')]));
    await apply1(p3, { type: 'txnCommitLocks', proposedTs: 40, txnId: 't3', commitTs: 30, primary: b('a') });
    await apply1(s3, { type: 'txnCommitLocks', proposedTs: 41, txnId: 't3', commitTs: 30 });
    assert.equal(status(await apply1(p3, check('t3', 400, true))), 'committed@30', 'decided: no recovery needed');
    assert.equal(status(await apply1(p3, { type: 'txnRollbackLocks', proposedTs: 401, txnId: 't3', primary: b('a') })), 'committed@30');
  });

  it('negative control: a recovery that only looks at the locks (no replicated prevention) lets a late prepare succeed after it aborted — the coordinator would report a commit the primary refused', async () => {
    const p = await StateMachine.open(new MemoryEngine());
    const s = await StateMachine.open(new MemoryEngine());
    await apply1(p, prepare('t1', 20, [put('a', 'A')], { participants: ['x'] }));
    assert.match(await recover(p, [{ sm: s, key: 'x' }], 't1', 400, false), /^aborted@/);
    // Without the prevention record the late prepare succeeds: every prepare "succeeded", so the
    // coordinator replies committed, while the primary says aborted — a torn answer.
    assert.equal(status(await apply1(s, prepare('t1', 410, [put('x', 'X')]))), 'prepared@410');
    assert.equal(p.locks.record('t1')?.state, 'aborted');
  });

  it('the staging prepare\'s session result names the transaction; the outcome settles it (a fence or retry is then answered without a recovery)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('t1', 20, [put('a', 'A')], { participants: ['x'], session: session(7) }));
    // A fence of seq 7 (a retried commit elsewhere) meets the stored staging answer.
    const f1 = fenceOutcome(await apply1(sm, { type: 'fence', proposedTs: 30, session: session(7), txnId: 't1' }), 't1', 7, 'test');
    assert.equal(f1.committed, 'staged');
    assert.ok(f1.committed === 'staged' && f1.txnId === 't1' && f1.primary.equals(b('a')));
    // A retried staging prepare of the same seq is answered from the table (nothing applied twice).
    assert.equal(status(await apply1(sm, prepare('t1', 31, [put('a', 'A')], { participants: ['x'], session: session(7) }))), 'prepared@20');
    await apply1(sm, { type: 'txnCommitLocks', proposedTs: 40, txnId: 't1', commitTs: 25, primary: b('a') });
    assert.deepEqual(fenceOutcome(await apply1(sm, { type: 'fence', proposedTs: 50, session: session(7), txnId: 't1' }), 't1', 7, 'test'), { committed: true, commitTs: 25 });
    assert.equal(status(sm.sessionResult('c1', 7)!), 'committed@25');

    // Rolled back (a part refused): the seq's result says aborted — certainly not committed.
    const sm2 = await StateMachine.open(new MemoryEngine());
    assert.equal(status(await apply1(sm2, prepare('t2', 60, [put('a', 'B')], { participants: ['x'], session: session(8) }))), 'prepared@60');
    await apply1(sm2, { type: 'txnRollbackLocks', proposedTs: 70, txnId: 't2', primary: b('a') });
    assert.deepEqual(fenceOutcome(await apply1(sm2, { type: 'fence', proposedTs: 80, session: session(8), txnId: 't2' }), 't2', 8, 'test'), { committed: false });
  });

  it('a live lock refuses a staging prepare before the session table (the coordinator may settle it and send the same seq again)', async () => {
    const sm = await StateMachine.open(new MemoryEngine());
    await apply1(sm, prepare('other', 10, [put('a', 'O')]));
    assert.equal(status(await apply1(sm, prepare('t1', 20, [put('a', 'A')], { participants: ['x'], session: session(4) }))), 'KEY_LOCKED');
    assert.equal(sm.sessionResult('c1', 4), undefined, 'nothing stored for the seq');
    await apply1(sm, { type: 'txnRollbackLocks', proposedTs: 30, txnId: 'other' });
    assert.equal(status(await apply1(sm, prepare('t1', 40, [put('a', 'A')], { participants: ['x'], session: session(4) }))), 'prepared@40');
  });

  it('codecs: staging prepare, forced check, participant check and the staging answer round-trip; a format-1 lock still decodes', () => {
    const cmds: Command[] = [
      prepare('t1', 20, [put('a', '1')], { participants: ['m', ''], session: session(2) }),
      check('t1', 30, true),
      { type: 'txnCheck', proposedTs: 30, txnId: 't1', primary: b('a'), lockExpiresTs: 99, force: true },
      checkPart('t1', 40, 'm'),
    ];
    for (const c of cmds) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
    const l: TxnLock = { txnId: 't', key: b('a'), primary: b('a'), startTs: 1, prepTs: 2, ttlTs: 3, kind: 'write', mutation: put('a', 'v'), staging: { participants: [b('m')], session: { clientId: 'c', seq: 9 } } };
    assert.deepEqual(decodeLock(b('a'), 't', encodeLock(l)), l);
    const plain: TxnLock = { txnId: 't', key: b('a'), primary: b('a'), startTs: 1, prepTs: 2, ttlTs: 3, kind: 'read' };
    const enc = encodeLock(plain);
    assert.equal(enc[0], 1, 'a lock without staging keeps format 1 (older builds read it)');
    assert.deepEqual(decodeLock(b('a'), 't', enc), plain);
  });
});
