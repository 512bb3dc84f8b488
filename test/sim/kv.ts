// Replicated state machine of the simulation: per-key registers with put/get/cas, plus
// client sessions (Raft thesis §6.3) so a duplicated or re-delivered command applies once.

export type Value = number | null;

export type KvOp =
  | { kind: 'put'; key: string; value: number }
  | { kind: 'get'; key: string }
  | { kind: 'cas'; key: string; expect: Value; value: number };

export interface Command {
  client: number;
  seq: number;
  op: KvOp;
}

export type OpResult = { kind: 'put' } | { kind: 'get'; value: Value } | { kind: 'cas'; ok: boolean };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: Command): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(b: Uint8Array): Command | undefined {
  if (b.length === 0) return undefined; // raft's empty entries (new leader, leave-joint)
  return JSON.parse(dec.decode(b)) as Command;
}

export class KvStateMachine {
  private data = new Map<string, Value>();
  private sessions = new Map<number, { seq: number; result: OpResult }>();
  appliedIndex = 0;

  /** Apply a command; returns its result, or undefined if it is a stale duplicate. */
  apply(c: Command): OpResult | undefined {
    const sess = this.sessions.get(c.client);
    if (sess && c.seq <= sess.seq) return c.seq === sess.seq ? sess.result : undefined;
    const result = this.exec(c.op);
    this.sessions.set(c.client, { seq: c.seq, result });
    return result;
  }

  private exec(op: KvOp): OpResult {
    switch (op.kind) {
      case 'put':
        this.data.set(op.key, op.value);
        return { kind: 'put' };
      case 'get':
        return { kind: 'get', value: this.get(op.key) };
      case 'cas': {
        const cur = this.get(op.key);
        if (cur === op.expect) {
          this.data.set(op.key, op.value);
          return { kind: 'cas', ok: true };
        }
        return { kind: 'cas', ok: false };
      }
    }
  }

  get(key: string): Value {
    return this.data.has(key) ? this.data.get(key)! : null;
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify({ d: [...this.data], s: [...this.sessions], a: this.appliedIndex }));
  }

  static restore(b: Uint8Array): KvStateMachine {
    const sm = new KvStateMachine();
    if (b.length === 0) return sm;
    const o = JSON.parse(dec.decode(b)) as { d: [string, Value][]; s: [number, { seq: number; result: OpResult }][]; a: number };
    sm.data = new Map(o.d);
    sm.sessions = new Map(o.s);
    sm.appliedIndex = o.a;
    return sm;
  }

  /** Canonical dump used to compare replicas' states in tests. */
  dump(): string {
    return JSON.stringify([...this.data].sort());
  }
}
