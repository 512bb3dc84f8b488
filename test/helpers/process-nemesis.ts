// A seeded, bounded nemesis for multi-process tests: at random intervals it applies one fault to a random
// node (SIGKILL + restart, SIGSTOP/SIGCONT, or a partition through the node's FaultProxy) and heals it
// before the next. Every action is logged with a timestamp so a failing history can be lined up with
// the faults. Stop it with `stop()`; it never leaves a node paused, killed or partitioned.
import type { NodeProcess } from './cluster-process.js';
import type { FaultProxy } from './process-proxy.js';

export type Fault = 'kill' | 'pause' | 'partition';

export interface NemesisOptions {
  nodes: NodeProcess[];
  /** Proxies in front of nodes (same index), needed for 'partition'. */
  proxies?: Array<FaultProxy | undefined>;
  faults: Fault[];
  seed: number;
  /** Pause between faults (ms), uniformly in [min, max]. */
  intervalMs?: [number, number];
  /** How long a fault lasts before it is healed (ms). */
  durationMs?: [number, number];
  /** Upper bound on faults applied. */
  maxFaults?: number;
}

export interface NemesisEvent {
  atMs: number;
  node: string;
  action: string;
}

export class Nemesis {
  readonly events: NemesisEvent[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private readonly t0 = Date.now();

  constructor(private readonly o: NemesisOptions) {
    this.done = this.loop();
  }

  private log(node: string, action: string): void {
    this.events.push({ atMs: Date.now() - this.t0, node, action });
  }

  private async loop(): Promise<void> {
    let a = this.o.seed >>> 0;
    const rand = (): number => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const between = ([lo, hi]: [number, number]): number => lo + rand() * (hi - lo);
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const interval = this.o.intervalMs ?? [500, 1500];
    const duration = this.o.durationMs ?? [200, 800];
    for (let i = 0; i < (this.o.maxFaults ?? 10) && this.running; i++) {
      await sleep(between(interval));
      if (!this.running) break;
      const idx = Math.floor(rand() * this.o.nodes.length);
      const node = this.o.nodes[idx]!;
      const fault = this.o.faults[Math.floor(rand() * this.o.faults.length)]!;
      const hold = between(duration);
      switch (fault) {
        case 'kill':
          this.log(node.nodeId, 'SIGKILL');
          await node.kill9();
          await sleep(hold);
          await node.restart();
          this.log(node.nodeId, 'restarted');
          break;
        case 'pause':
          this.log(node.nodeId, 'SIGSTOP');
          node.pause();
          await sleep(hold);
          node.resume();
          this.log(node.nodeId, 'SIGCONT');
          break;
        case 'partition': {
          const proxy = this.o.proxies?.[idx];
          if (!proxy) break;
          this.log(node.nodeId, 'partition (proxy blocked)');
          proxy.block();
          await sleep(hold);
          proxy.unblock();
          this.log(node.nodeId, 'healed');
          break;
        }
      }
    }
  }

  /** Stops after the fault in progress is healed. */
  async stop(): Promise<NemesisEvent[]> {
    this.running = false;
    await this.done;
    return this.events;
  }
}
