// A small WGL (Wing & Gong, with Lowe's memoization — as in Porcupine) linearizability checker
// for per-key registers supporting put/get/cas. Histories are checked key by key (registers
// are independent, so a history is linearizable iff each per-key sub-history is).

import type { KvOp, OpResult, Value } from './kv.js';

export interface HistoryOp {
  id: number;
  client: number;
  op: KvOp;
  call: number;
  /** Virtual time of the response; Infinity if the outcome is unknown (timeout/crash). */
  ret: number;
  result?: OpResult;
}

interface Ev {
  op: HistoryOp;
  idx: number; // index within the per-key op list
  isCall: boolean;
  match: Ev | undefined; // call → its return
  prev: Ev | undefined;
  next: Ev | undefined;
}

/** Applies `op` with observed result to `state`; returns the new state or undefined if impossible. */
function step(state: Value, h: HistoryOp): { ok: boolean; state: Value } {
  const op = h.op;
  switch (op.kind) {
    case 'put':
      return { ok: true, state: op.value };
    case 'get':
      return { ok: h.result === undefined || (h.result.kind === 'get' && h.result.value === state), state };
    case 'cas': {
      const succeeds = state === op.expect;
      if (h.result === undefined) return { ok: true, state: succeeds ? op.value : state };
      if (h.result.kind !== 'cas') return { ok: false, state };
      if (h.result.ok !== succeeds) return { ok: false, state };
      return { ok: true, state: succeeds ? op.value : state };
    }
  }
}

export interface CheckResult {
  ok: boolean;
  key?: string;
  explored: number;
  /** Ops of the failing key, for diagnostics. */
  ops?: HistoryOp[];
}

/** Check one register's history. `budget` bounds the search (returns ok=true, timedOut). */
export function checkRegister(ops: HistoryOp[], budget = 5_000_000): { ok: boolean; explored: number; timedOut: boolean } {
  // Reads that never returned constrain nothing: drop them.
  const hist = ops.filter((o) => !(o.op.kind === 'get' && o.ret === Infinity));
  const n = hist.length;
  if (n === 0) return { ok: true, explored: 0, timedOut: false };
  const evs: Ev[] = [];
  hist.forEach((op, idx) => {
    const call: Ev = { op, idx, isCall: true, match: undefined, prev: undefined, next: undefined };
    const ret: Ev = { op, idx, isCall: false, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    evs.push(call, ret);
  });
  // Time order; at equal times calls come first (treat touching ops as concurrent: permissive).
  evs.sort((a, b) => {
    const ta = a.isCall ? a.op.call : a.op.ret;
    const tb = b.isCall ? b.op.call : b.op.ret;
    if (ta !== tb) return ta - tb;
    if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
    return a.idx - b.idx;
  });
  const head: Ev = { op: hist[0]!, idx: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let prev = head;
  for (const e of evs) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  const lift = (e: Ev): void => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Ev): void => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };
  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { e: Ev; state: Value }[] = [];
  let state: Value = null;
  let e: Ev | undefined = head.next;
  let explored = 0;
  while (head.next !== undefined) {
    if (++explored > budget) return { ok: true, explored, timedOut: true };
    if (e === undefined) return { ok: false, explored, timedOut: false };
    if (e.isCall) {
      const r = step(state, e.op);
      if (r.ok) {
        linearized[e.idx >> 5]! |= 1 << (e.idx & 31);
        const key = `${linearized.join(',')}|${r.state}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ e, state });
          state = r.state;
          lift(e);
          e = head.next;
          continue;
        }
        linearized[e.idx >> 5]! &= ~(1 << (e.idx & 31));
      }
      e = e.next;
    } else {
      // A return whose call can't be linearized before it: backtrack.
      const top = stack.pop();
      if (!top) return { ok: false, explored, timedOut: false };
      state = top.state;
      linearized[top.e.idx >> 5]! &= ~(1 << (top.e.idx & 31));
      unlift(top.e);
      e = top.e.next;
    }
  }
  return { ok: true, explored, timedOut: false };
}

export function checkHistory(ops: HistoryOp[]): CheckResult & { timedOut: boolean } {
  const byKey = new Map<string, HistoryOp[]>();
  for (const o of ops) {
    const k = o.op.key;
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(o);
  }
  let explored = 0;
  let timedOut = false;
  for (const [key, kops] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const r = checkRegister(kops);
    explored += r.explored;
    timedOut ||= r.timedOut;
    if (!r.ok) return { ok: false, key, explored, ops: kops, timedOut };
  }
  return { ok: true, explored, timedOut };
}
