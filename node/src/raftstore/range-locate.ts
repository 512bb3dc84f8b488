// Where a range this store holds no replica of is (docs/ARCHITECTURE.md "Transactions across ranges",
// "Ranges the coordinator's store does not hold"): the meta directory answers, from this store's replica
// of the meta range (range 1) when it has one. A store without a usable one — no replica of range 1, or
// one still waiting for its first snapshot (a store added to some ranges only) — asks its peer stores
// (TxnCall "locate", txn-rpc.ts): any store holding range 1 answers from its replica. Bounded: a few
// rounds over at most MAX_PEERS peers, then a retryable KEY_NOT_IN_RANGE (the client tries another
// store). Records fetched that way are kept for a second (a transaction's steps look the same range up
// many times); a stale one costs a refused step, never a wrong answer: every step is checked against
// the range's own descriptor where it applies.
import type { Logger } from '../common/logger.js';
import { KeyNotInRangeError } from '../kv/errors.js';
import { MetaDirectory, type MetaRecord } from '../meta/meta-directory.js';
import { containsKey } from '../meta/range-descriptor.js';
import { remoteLocate, type TxnCallFn } from './txn-rpc.js';

/** What the locator reads: the local directory and who to ask. */
export interface RangeLocatorDeps {
  /** This store's replica of the meta range's directory; undefined when it has none (or an empty one). */
  directory(): Pick<MetaDirectory, 'lookup' | 'lookupBefore'> | undefined;
  /** Stores worth asking (peers of the local ranges), in preference order. */
  peers(): readonly number[];
  call: TxnCallFn;
  log?: Logger;
  /** Wall clock in ms (tests). */
  nowMs?: () => number;
}

export interface RangeLocatorOptions {
  /** Rounds over the peers before giving up (default 3). */
  rounds?: number;
  /** Pause after round n: n × this (default 100 ms). */
  backoffMs?: number;
  /** One peer's answer deadline (default 2 s). */
  callTimeoutMs?: number;
  /** How long a record fetched from a peer is used (default 1 s). */
  cacheMs?: number;
}

const MAX_PEERS = 8;

export class RangeLocator {
  /** Records fetched from peers (the directory's rules keep the newest epoch). */
  private readonly cache = new MetaDirectory();
  private readonly fetchedAt = new Map<number, number>();
  private readonly now: () => number;
  readonly stats = { localHits: 0, cacheHits: 0, peerLookups: 0, peerCalls: 0, failures: 0 };

  constructor(private readonly deps: RangeLocatorDeps, private readonly opts: RangeLocatorOptions = {}) {
    this.now = deps.nowMs ?? Date.now;
  }

  /**
   * The record of the range holding `key` (`before`: holding the keys just below the exclusive bound
   * `key`, empty = +∞), or undefined when the directory has none. Rejects with a retryable
   * KeyNotInRangeError when this store has no directory and no peer answered.
   */
  async locate(key: Buffer, before = false): Promise<MetaRecord | undefined> {
    const dir = this.deps.directory();
    if (dir !== undefined) {
      const rec = before ? dir.lookupBefore(key) : dir.lookup(key);
      if (rec !== undefined) {
        this.stats.localHits++;
        return rec;
      }
      // Not (yet) in the local directory: a peer's may be further along (a record in flight).
    }
    const cached = before ? this.cache.lookupBefore(key) : this.cache.lookup(key);
    if (cached !== undefined && this.now() - (this.fetchedAt.get(cached.descriptor.rangeId) ?? 0) < (this.opts.cacheMs ?? 1000)) {
      this.stats.cacheHits++;
      return cached;
    }
    return this.askPeers(key, before, dir !== undefined);
  }

  private async askPeers(key: Buffer, before: boolean, haveDirectory: boolean): Promise<MetaRecord | undefined> {
    this.stats.peerLookups++;
    const rounds = this.opts.rounds ?? 3;
    const peers = this.deps.peers().slice(0, MAX_PEERS);
    let answered = false;
    let last = '';
    for (let round = 1; round <= rounds; round++) {
      for (const p of peers) {
        this.stats.peerCalls++;
        try {
          const a = await remoteLocate(this.deps.call, p, key, before, this.opts.callTimeoutMs ?? 2000);
          if (a === 'not-held') {
            last = `store ${p} holds no replica of the meta range`;
            continue;
          }
          answered = true;
          if (a === undefined) continue; // its directory has no record either: another may
          if (!before && !containsKey(a.descriptor, key)) continue;
          this.cache.put(a);
          this.fetchedAt.set(a.descriptor.rangeId, this.now());
          return a;
        } catch (e) {
          last = `store ${p}: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      // Some store holding range 1 answered without a record: the range is not (yet) known.
      if (answered || haveDirectory) return undefined;
      if (round < rounds) await new Promise((r) => setTimeout(r, round * (this.opts.backoffMs ?? 100)));
    }
    this.stats.failures++;
    const what = before ? (key.length === 0 ? 'the end of the key space' : `keys below ${key.toString('hex')}`) : `key ${key.toString('hex') || '(start)'}`;
    this.deps.log?.info('range lookup: no peer store answered', { peers: peers.length, rounds, last });
    throw new KeyNotInRangeError(
      0,
      `this store holds no replica of the meta range (range 1) and none of its ${peers.length} peer stores answered the lookup of the range of ${what}${last ? ` (${last})` : ''}; retry (on another store)`,
    );
  }
}
