// The steps of a cross-range transaction on ONE range (kv/txn-locks.ts), as commands submitted to that
// range and their results interpreted: prepare, commit the locks (the commit point on the primary),
// roll them back, ask the primary for the transaction's fate. One implementation for a local replica
// (LocalStore's submit) and a remote one (raftstore/txn-rpc.ts: the command travels to a store holding a
// replica and is submitted there) — the coordinator and the lock resolver see only this interface.
import type { Session } from './api.js';
import { resultError, type Command, type CommandResult, type OnePhasePart, type TxnPrepareCommand, type TxnState, type TxnStatusResult } from './commands.js';
import { KeyNotInRangeError, OutcomeUnknownError, StorageError, TxnConflictError } from './errors.js';

/** A prepare as the coordinator asks for it: the command without what the submitting side adds. */
export type PrepareRequest = Omit<TxnPrepareCommand, 'type' | 'proposedTs' | 'session'>;

/**
 * A staging prepare's answer: staged at `prepTs`, or the session table answered the seq with an earlier
 * attempt's result (a retried commit or Batch): the coordinator resolves that one instead.
 */
export type StageOutcome = { staged: true; prepTs: number } | { staged: false; result: CommandResult };

/** A transaction's fate at its primary; `staging` comes with the primary key and the participants. */
export type TxnCheck = { state: TxnState; ts: number; primary?: Buffer; participants?: Buffer[] };

/** What the coordinator and the resolver need of one range. */
export interface TxnParticipant {
  /** The range these steps run on (logs). */
  readonly rangeId: number;
  /** Phase one: validate and lock; returns the prepare ts. */
  prepareTxn(p: PrepareRequest): Promise<number>;
  /** Phase one on the primary range under parallel commits (`p.participants` set), with the commit's session. */
  stageTxn(p: PrepareRequest, session?: Session): Promise<StageOutcome>;
  /** Recovery of a staging transaction: did its part holding `key` prepare here? (Else it is prevented.) */
  checkPart(txnId: string, key: Buffer): Promise<{ state: TxnState; ts: number }>;
  /**
   * Commits this range's locks of a transaction (the commit point when `primary` is given). With
   * `onePhase`, the primary's part was never prepared: it is validated and written in this one step, at
   * a commit ts >= `commitTs` (the one returned).
   */
  /** `txnId` '' (and `deleted` for a one-range DeleteRange): the session seq was answered by another request's result. */
  commitTxnLocks(txnId: string, commitTs: number, opts?: { primary?: Buffer; session?: Session; onePhase?: OnePhasePart }): Promise<{ commitTs: number; txnId: string; deleted?: number }>;
  /** Drops this range's locks of a transaction (records the abort when `primary` is given). */
  rollbackTxnLocks(txnId: string, primary?: Buffer): Promise<'aborted' | 'committed'>;
  /**
   * The transaction's fate at its primary range (aborting it there once its TTL ran out). `lockExpiresTs`:
   * when the lock the asker met expires (alive until then, also without a primary lock). `force`: judge it
   * as expired now (TxnCheckCommand.force: a retried commit, or an operator's --force).
   */
  checkTxn(txnId: string, primary: Buffer, lockExpiresTs?: number, force?: boolean): Promise<TxnCheck>;
  /**
   * Resolves a commit whose outcome was lost through this range's log (a fence with its session). `key`:
   * refused (KEY_NOT_IN_RANGE) unless the range holds it — a fence meant for the range of that key.
   */
  fence(txnId: string, session: Session, key?: Buffer): Promise<FenceOutcome>;
}

/**
 * What a fence found in a range's log for a commit whose outcome was lost (TxnSteps.fence): committed,
 * fenced off (not committed here), or a STAGING transaction (parallel commits) whose fate a recovery
 * through its primary decides.
 */
/** `deleted`: the seq applied as a one-range DeleteRange (its stored count). */
export type FenceOutcome = { committed: true; commitTs: number; deleted?: number } | { committed: false } | { committed: 'staged'; txnId: string; primary: Buffer };

/**
 * What a fence command's result says of the commit it fences: the stored result of the session's seq
 * (committed), or TXN_NOT_FOUND (fenced off: it can no longer apply in `where`). Other errors are thrown.
 */
export function fenceOutcome(r: CommandResult, txnId: string, seq: number, where: string): FenceOutcome {
  if (r.type === 'txnCommit') return { committed: true, commitTs: r.commitTs };
  if (r.type === 'ok') return { committed: true, commitTs: 0 }; // a commit with nothing to write (a noop)
  if (r.type === 'batch') return { committed: true, commitTs: r.version }; // a Batch applied in one range
  if (r.type === 'txnStatus' && r.state === 'committed') return { committed: true, commitTs: r.ts }; // a commit point
  if (r.type === 'deleteRange') {
    const d = storedDeleteRange(r); // a one-range DeleteRange (refused if cut short between chunks)
    return { committed: true, commitTs: d.version, deleted: d.deleted };
  }
  // A staging prepare's stored answer: the transaction may be committed; its primary decides.
  if (r.type === 'txnStatus' && r.state === 'prepared' && r.primary !== undefined) return { committed: 'staged', txnId: r.txnId, primary: r.primary };
  if (r.type === 'txnStatus' && r.state === 'aborted') return { committed: false }; // a staging transaction's settled abort
  if (r.type === 'error') {
    if (r.code === 'TXN_NOT_FOUND') return { committed: false };
    throw resultError(r);
  }
  throw new OutcomeUnknownError(0, undefined, `transaction ${txnId}: its session seq ${seq} answered a ${r.type} command in ${where}; outcome unknown`);
}

/** TxnParticipant over any way of submitting a command to the range. */
export class TxnSteps implements TxnParticipant {
  constructor(
    readonly rangeId: number,
    private readonly submit: (cmd: Command) => Promise<CommandResult>,
    private readonly now: () => number,
    /** Refuses a command too large for one Raft entry before it is sent (LocalStore's check). */
    private readonly checkSize: (cmd: Command, p: PrepareRequest) => void = () => undefined,
  ) {}

  async prepareTxn(p: PrepareRequest): Promise<number> {
    const cmd: Command = { type: 'txnPrepare', proposedTs: this.now(), ...p };
    this.checkSize(cmd, p);
    const r = await this.submit(cmd);
    if (r.type === 'error') throw resultError(r);
    if (r.type !== 'txnStatus') throw new StorageError(`unexpected result ${r.type} of a prepare`);
    if (r.state !== 'prepared') throw new TxnConflictError(p.writes[0]?.key ?? p.primary, r.ts, `transaction ${p.txnId} is already ${r.state}`);
    return r.ts;
  }

  async stageTxn(p: PrepareRequest, session?: Session): Promise<StageOutcome> {
    const cmd: Command = { type: 'txnPrepare', proposedTs: this.now(), ...p };
    if (session !== undefined) cmd.session = session;
    this.checkSize(cmd, p);
    const r = await this.submit(cmd);
    if (r.type === 'error') throw resultError(r);
    if (r.type === 'txnStatus' && r.txnId === p.txnId) {
      if (r.state === 'prepared') return { staged: true, prepTs: r.ts };
      if (r.state === 'aborted') throw new TxnConflictError(p.primary, r.ts, `transaction ${p.txnId} is already aborted`);
    }
    return { staged: false, result: r };
  }

  async checkPart(txnId: string, key: Buffer): Promise<{ state: TxnState; ts: number }> {
    const r = await this.submit({ type: 'txnCheckPart', proposedTs: this.now(), txnId, key });
    if (r.type === 'error') throw resultError(r);
    if (r.type !== 'txnStatus') throw new StorageError(`unexpected result ${r.type} of a transaction part check`);
    return { state: r.state, ts: r.ts };
  }

  async commitTxnLocks(txnId: string, commitTs: number, opts: { primary?: Buffer; session?: Session; onePhase?: OnePhasePart } = {}): Promise<{ commitTs: number; txnId: string; deleted?: number }> {
    const cmd: Command = { type: 'txnCommitLocks', proposedTs: this.now(), txnId, commitTs };
    if (opts.session !== undefined) cmd.session = opts.session;
    if (opts.primary !== undefined) cmd.primary = opts.primary;
    if (opts.onePhase !== undefined) {
      cmd.onePhase = opts.onePhase;
      this.checkSize(cmd, { txnId, primary: opts.primary ?? Buffer.alloc(0), ttlTs: 1, ...opts.onePhase });
    }
    const r = await this.submit(cmd);
    if (r.type === 'error') throw resultError(r);
    if (r.type === 'txnStatus') {
      if (r.state !== 'committed') throw new StorageError(`unexpected ${r.state} result of a commit`);
      return { commitTs: r.ts, txnId: r.txnId };
    }
    // The session's seq was answered from the table with another command's result: the request this
    // commit retries already applied (as a one-range batch or commit before a split, say).
    const stored = storedCommit(r, this.rangeId);
    if (stored !== undefined) return { ...stored, txnId: '' };
    throw new StorageError(`unexpected result ${r.type} of a commit`);
  }

  async rollbackTxnLocks(txnId: string, primary?: Buffer): Promise<'aborted' | 'committed'> {
    const cmd: Command = { type: 'txnRollbackLocks', proposedTs: this.now(), txnId };
    if (primary !== undefined) cmd.primary = primary;
    const r = await this.submit(cmd);
    if (r.type === 'error') throw resultError(r);
    return r.type === 'txnStatus' && r.state === 'committed' ? 'committed' : 'aborted';
  }

  /**
   * Resolves a commit whose outcome was lost through this range's log: a fence with the commit's
   * session. Its stored result answers (the commit applied here), or the seq is fenced off here so the
   * original can never apply in this range (not committed here).
   */
  async fence(txnId: string, session: Session, key?: Buffer): Promise<FenceOutcome> {
    const cmd: Command = { type: 'fence', proposedTs: this.now(), session, txnId };
    if (key !== undefined) cmd.key = key;
    const r = await this.submit(cmd);
    return fenceOutcome(r, txnId, session.seq, `range ${this.rangeId}`);
  }

  async checkTxn(txnId: string, primary: Buffer, lockExpiresTs?: number, force = false): Promise<TxnCheck> {
    const cmd: Command = { type: 'txnCheck', proposedTs: this.now(), txnId, primary };
    if (lockExpiresTs !== undefined) cmd.lockExpiresTs = lockExpiresTs;
    if (force) cmd.force = true;
    const r = await this.submit(cmd);
    if (r.type === 'error') throw resultError(r);
    if (r.type !== 'txnStatus') throw new StorageError(`unexpected result ${r.type} of a transaction check`);
    return checkOf(r);
  }
}

/**
 * A one-range DeleteRange's stored result met by a later attempt's commit point (its span was one range
 * when it applied; the range split since, or the retry runs on a store lacking it): the answer when
 * complete. One cut short between chunks is continued only by its own chunks, on a store holding the
 * range: refused here, retryably.
 */
export function storedDeleteRange(r: Extract<CommandResult, { type: 'deleteRange' }>, rangeId = 0): { deleted: number; version: number } {
  if (r.resume !== undefined) throw new KeyNotInRangeError(rangeId, 'an earlier attempt of this DeleteRange is part-way through its range; retry on a store holding that range');
  return { deleted: r.deleted, version: r.version };
}

/**
 * The commit another request's stored result records, when a session seq was answered by it instead of
 * by the command sent (a one-range Batch, commit or DeleteRange; a noop commit): its ts, and a one-range
 * DeleteRange's count. Undefined for any other result.
 */
export function storedCommit(r: CommandResult, rangeId = 0): { commitTs: number; deleted?: number } | undefined {
  switch (r.type) {
    case 'txnCommit':
      return { commitTs: r.commitTs };
    case 'batch':
      return { commitTs: r.version };
    case 'ok':
      return { commitTs: r.ts };
    case 'deleteRange': {
      const d = storedDeleteRange(r, rangeId);
      return { commitTs: d.version, deleted: d.deleted };
    }
    default:
      return undefined;
  }
}

function checkOf(r: TxnStatusResult): TxnCheck {
  const c: TxnCheck = { state: r.state, ts: r.ts };
  if (r.state === 'staging') {
    if (r.primary === undefined || r.participants === undefined) throw new StorageError(`transaction ${r.txnId}: a staging answer without its participants`);
    c.primary = r.primary;
    c.participants = r.participants;
  }
  return c;
}

/** Whether `cmd` is a step of a cross-range transaction (what a remote coordinator may submit here). */
export function isTxnStep(cmd: Command): boolean {
  return cmd.type === 'txnPrepare' || cmd.type === 'txnCommitLocks' || cmd.type === 'txnRollbackLocks' || cmd.type === 'txnCheck' || cmd.type === 'txnCheckPart' || cmd.type === 'fence';
}
