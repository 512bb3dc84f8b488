// What a Jepsen workload provides to a run (run-one.ts): initial data, concurrent clients for the fault
// window, and a final check against every member once the cluster is healed. Each workload owns its
// checker; run-one only aggregates problems and counts.
import type { KvClientOptions, KvError } from '../../node/src/client/index.js';
import { KvClient, KvConflictError, KvInvalidArgumentError, KvTxnNotFoundError } from '../../node/src/client/index.js';
import { mulberry32 as prng } from '../../node/src/common/prng.js';

export type WorkloadKind = 'register' | 'counter' | 'bank' | 'write-skew';
export const ALL_WORKLOADS: WorkloadKind[] = ['register', 'counter', 'bank', 'write-skew'];

export interface WorkloadRunContext {
  clients: number;
  seed: number;
  timeLimitMs: number;
  /** Whether clients go on (the time limit, or longer while a recipe's nemesis still has rounds to run). */
  running: () => boolean;
  /** Endpoints of client i (a single one when clients are pinned to a node). */
  endpointsFor: (client: number) => string[];
  /** KvClient options every workload client uses (deadlines). */
  clientOptions: Partial<KvClientOptions>;
}

export interface FinalContext {
  /** One client per current member that reaches only that member. */
  members: Array<{ id: number; client: KvClient; endpoint: string }>;
}

export interface CheckResult {
  problems: string[];
  counts: Record<string, number>;
  /** One line for the run summary (e.g. Porcupine's verdict). */
  verdict: string;
  /** Written to history.json when the run is kept. */
  history: unknown;
}

export interface Workload {
  readonly kind: WorkloadKind;
  /** Writes the initial data (before the nemesis starts). */
  setup(boot: KvClient): Promise<void>;
  /** Runs the clients until the time limit. */
  run(ctx: WorkloadRunContext): Promise<void>;
  /** After healing: final reads on every member and the workload's checks. `dir` holds artifacts. */
  check(fc: FinalContext, dir: string): Promise<CheckResult>;
}

/**
 * Errors after which `KvClient.txn` claims the transaction did not commit (conflicts after the last
 * attempt, a transaction the server no longer knows, a rejected request). The checkers hold the client
 * to that claim: such a transaction counts as not applied, so a false claim shows up as a duplicate.
 * Every other error leaves the outcome unknown.
 */
export function txnDefinitelyFailed(err: unknown): boolean {
  return err instanceof KvConflictError || err instanceof KvTxnNotFoundError || err instanceof KvInvalidArgumentError;
}

export const errLine = (e: unknown): string => `${(e as KvError).code ?? (e as Error).name}: ${(e as Error).message.split('\n')[0]}`;

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Client errors by kind (numbers masked), for the artifacts: why operations failed or stayed unknown. */
export class ErrorTally {
  private readonly m = new Map<string, number>();
  /** SESSION_EXPIRED answers: sessions here are never idle near the TTL (1 h), so each one is a bug. */
  sessionExpired = 0;
  note(e: unknown): void {
    if ((e as KvError).code === 'SESSION_EXPIRED') this.sessionExpired++;
    const k = errLine(e).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>').replace(/\d+/g, 'N').slice(0, 120);
    this.m.set(k, (this.m.get(k) ?? 0) + 1);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.m].sort((a, b) => b[1] - a[1]));
  }
}

/** The problem line for SESSION_EXPIRED answers to live sessions, if any. */
export function sessionProblems(t: ErrorTally): string[] {
  return t.sessionExpired > 0 ? [`session expired: ${t.sessionExpired} request(s) of live sessions (idle far below the TTL) answered SESSION_EXPIRED`] : [];
}

/**
 * Makes the client's first mutating request a plain put that reaches the log. Known bug (reported with
 * issue 10): a Commit of a transaction without writes takes a session seq but is never proposed, so
 * when it is a session's first mutating request the state machine never learns the session, and every
 * later write carries first_unacked > 1 for an unknown session → SESSION_EXPIRED for the rest of the
 * client's life. The workloads open each session with a write so they keep checking transactions;
 * any SESSION_EXPIRED is still reported as a problem (sessionProblems).
 */
export async function openSession(kv: KvClient, key: string, running: () => boolean): Promise<void> {
  while (running()) {
    try {
      await kv.put(key, 'hello');
      return;
    } catch {
      await sleepMs(100);
    }
  }
}

/**
 * Runs one loop per client (ctx.clients of them), each with its own KvClient and a PRNG seeded from the
 * run seed (`seed * seedFactor + client`, so every workload's choices replay); closes every client at the end.
 */
export async function runClientLoops(ctx: WorkloadRunContext, seedFactor: number, loop: (c: number, kv: KvClient, rand: () => number) => Promise<void>): Promise<void> {
  const clients: KvClient[] = [];
  try {
    await Promise.all(
      Array.from({ length: ctx.clients }, async (_, c) => {
        const rand = prng(ctx.seed * seedFactor + c);
        const kv = new KvClient({ endpoints: ctx.endpointsFor(c), ...ctx.clientOptions });
        clients.push(kv);
        await loop(c, kv, rand);
      }),
    );
  } finally {
    clients.forEach((k) => k.close());
  }
}
