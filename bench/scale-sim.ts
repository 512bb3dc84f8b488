// Scale simulation (docs/scaling.md): many stores and ranges in one process, seeded and deterministic.
// It does not run Raft; it runs the *shard map* — which store holds which replica, who leads, which
// ranges are written — tick by tick, and counts what a real cluster would send because of it:
//   * heartbeats per tick, four ways: one message per range and follower (today), coalesced into one
//     message per (leader store → follower store) pair per tick (CockroachDB / TiKV), with idle ranges
//     quiesced (only ranges written or changed in the last `quiesceTicks` ticks heartbeat), and both;
//     quiesced variants add a store-level liveness ping per store pair sharing a range;
//   * routing: every store is a gateway with its own range cache (CockroachDB's DistSender); each client
//     request goes to a range of the active set; a cache entry older than the range (a split or leader
//     change since) is a miss, answered by a meta-range lookup — or, with `hints`, by the routing error
//     itself (NOT_LEADER leader hint, EPOCH_NOT_MATCH current descriptors: TiKV's client-go behaviour);
//   * meta range writes (one CAS batch per split, three descriptor writes per replica move) and PD-style
//     range reports (every leader every `reportS` seconds);
//   * TSO: timestamps per transaction, batched per store within `tsoWindowMs` (PD's client batching).
// `scaleModel` is the closed-form prediction of the same counts; `runScaleSim` measures them by counting.
// The main prints model vs simulated for several sizes:
//   node dist/bench/scale-sim.js [--sizes 10x1000,100x10000,300x30000,100x100000] [--seconds 20] [--json]
//   make scale-sim SCALE_SIM_ARGS="--sizes 500x50000 --active 0.05"
import { parseArgs } from 'node:util';
import { mulberry32 } from '../node/src/common/prng.js';

export interface ScaleArgs {
  stores: number;
  ranges: number;
  /** Replicas per range. */
  rf: number;
  /**
   * random: each range on rf distinct stores drawn uniformly (what a balancer converges to); ring: range
   * i on stores i..i+rf-1 (the model's pair counts assume no moves: a move leaves the ring).
   */
  placement: 'random' | 'ring';
  /** Simulated seconds (bounded loop: seconds × 1000 / tickMs ticks). */
  seconds: number;
  tickMs: number;
  /** Share of ranges that receive client traffic (the rest is idle data). */
  activeFraction: number;
  /** Client requests per second entering each store (gateway). */
  opsPerStore: number;
  /** Share of requests that write (a write wakes a quiesced range). */
  writeFraction: number;
  /** Reads wake a quiesced range too (ReadIndex reads need a heartbeat round; lease reads do not). */
  readsWake: boolean;
  /** Share of requests that are (cross-range) transactions needing TSO timestamps. */
  txnFraction: number;
  tsPerTxn: number;
  /** A store sends one TSO request per window for every timestamp asked in it (0 = no batching). */
  tsoWindowMs: number;
  /** Rates per 1000 ranges per second (so that every size sees the same churn per range). */
  splitsPer1k: number;
  leaderChangesPer1k: number;
  movesPer1k: number;
  /** Routing errors carry the new leader / descriptors (no meta lookup for a stale entry). */
  hints: boolean;
  /** Gateways start with empty range caches (a rolling restart of every gateway). */
  cold: boolean;
  /** A range quiesces after this many ticks without a write, split, leader change or move. */
  quiesceTicks: number;
  /** Store-level liveness ping (ping + pong) per store pair sharing a range, every this many ticks. */
  livenessTicks: number;
  /** PD-style: every range leader reports its range to the meta range every this many seconds. */
  reportS: number;
  seed: number;
}

export const DEFAULTS: ScaleArgs = {
  stores: 100,
  ranges: 100_000,
  rf: 3,
  placement: 'random',
  seconds: 20,
  tickMs: 50, // kvs-node --raft-tick default (heartbeat every tick)
  activeFraction: 0.1,
  opsPerStore: 2000,
  writeFraction: 0.5,
  readsWake: false,
  txnFraction: 0.1,
  tsPerTxn: 2,
  tsoWindowMs: 1,
  splitsPer1k: 0.1,
  leaderChangesPer1k: 1,
  movesPer1k: 0.2,
  hints: false,
  cold: false,
  quiesceTicks: 2,
  livenessTicks: 1,
  reportS: 60,
  seed: 1,
};

/** Counts per simulated second (cluster-wide unless named per store). */
export interface ScaleCounts {
  /** Heartbeat messages (MsgHeartbeat + response) per second, the four variants. */
  hbPlain: number;
  hbCoalesced: number;
  hbQuiesced: number;
  hbCoalescedQuiesced: number;
  /** Ranges awake (not quiesced) on average. */
  awakeRanges: number;
  /** Ordered store pairs sharing at least one range (the liveness mesh). */
  livenessPairs: number;
  requests: number;
  cacheMisses: number;
  metaLookups: number;
  metaWrites: number;
  descriptorWrites: number;
  rangeReports: number;
  tsRequests: number;
  tsoRpcs: number;
}

export const COUNT_KEYS: ReadonlyArray<keyof ScaleCounts> = [
  'hbPlain',
  'hbCoalesced',
  'hbQuiesced',
  'hbCoalescedQuiesced',
  'awakeRanges',
  'livenessPairs',
  'requests',
  'cacheMisses',
  'metaLookups',
  'metaWrites',
  'descriptorWrites',
  'rangeReports',
  'tsRequests',
  'tsoRpcs',
];

/** Counted after the warm-up ticks only; the rest from the first tick. */
const HEARTBEAT_KEYS: ReadonlySet<keyof ScaleCounts> = new Set(['hbPlain', 'hbCoalesced', 'hbQuiesced', 'hbCoalescedQuiesced', 'awakeRanges', 'livenessPairs', 'rangeReports']);

/** Number of ticks the loop runs, and how many of them are measured (the first quiesceTicks warm up). */
function ticksOf(a: ScaleArgs): { total: number; warm: number } {
  const total = Math.max(1, Math.round((a.seconds * 1000) / a.tickMs));
  return { total, warm: Math.min(a.quiesceTicks, total - 1) };
}

/** Events of one kind per tick: a deterministic accumulator, so the event counts are exact, not sampled. */
function perTick(a: ScaleArgs, per1k: number): number {
  return (per1k * (a.ranges / 1000) * a.tickMs) / 1000;
}

/** Expected occupied bins when `balls` fall uniformly into `bins`. */
const occupied = (bins: number, balls: number) => (bins <= 0 ? 0 : bins * (1 - Math.pow(1 - 1 / bins, balls)));

/** Ordered (leader store → follower store) pairs a range can use. */
function possiblePairs(a: ScaleArgs): number {
  const all = a.stores * (a.stores - 1);
  return a.placement === 'ring' ? Math.min(all, 2 * (a.rf - 1) * a.stores) : all;
}

/** The closed-form model of every count (per second). Assumptions are stated inline. */
export function scaleModel(a: ScaleArgs): ScaleCounts {
  const { total, warm } = ticksOf(a);
  const tps = 1000 / a.tickMs; // ticks per second
  const T = (total * a.tickMs) / 1000; // routing counts cover the whole run
  const splitsT = perTick(a, a.splitsPer1k);
  const lcT = perTick(a, a.leaderChangesPer1k);
  const movesT = perTick(a, a.movesPer1k);
  // The range count grows by the splits; the model uses the mean over the run.
  const R = a.ranges + (splitsT * (total + warm)) / 2;
  const Ra = Math.max(1, Math.round(a.ranges * a.activeFraction)) * (R / a.ranges);
  const opsT = (a.opsPerStore * a.tickMs) / 1000; // per store per tick
  const fol = a.rf - 1;

  // Awake ranges: an active range sleeps only if no write and no event hit it in the last W ticks.
  const W = a.quiesceTicks;
  const writesT = a.stores * opsT * (a.readsWake ? 1 : a.writeFraction);
  const eventsT = splitsT * 2 + lcT + movesT; // a split touches parent and child
  const pEventFree = Math.exp((-eventsT * W) / R);
  const awake = Ra * (1 - Math.exp((-writesT * W) / Ra) * pEventFree) + (R - Ra) * (1 - pEventFree);

  const pairs = possiblePairs(a);
  const livePairsAll = a.placement === 'ring' ? Math.min(a.stores * (a.stores - 1), 2 * (a.rf - 1) * a.stores) : occupied(pairs, a.ranges * a.rf * (a.rf - 1));
  const liveness = (2 * livePairsAll * tps) / a.livenessTicks;
  const hbPlain = 2 * fol * R * tps;
  const hbCoalesced = 2 * occupied(pairs, R * fol) * tps;
  const hbQuiesced = 2 * fol * awake * tps + liveness;
  const hbCoalescedQuiesced = 2 * occupied(pairs, awake * fol) * tps + liveness;

  // Routing: a stale entry is missed by a gateway at most once, on its first request to that range
  // after the change. Per (gateway, invalidated range): accesses at rate α, the next invalidation at
  // rate ε, the run ends at T: P(miss) = α/β · (1 − (1 − e^{−βT})/(βT)), β = α + ε (Poisson limit).
  const C = a.stores;
  const reqS = a.stores * a.opsPerStore;
  const alpha = a.opsPerStore / Ra;
  const eps = ((2 * splitsT + lcT) * tps) / R;
  const beta = alpha + eps;
  const pMiss = beta > 0 && T > 0 ? (alpha / beta) * (1 - (1 - Math.exp(-beta * T)) / (beta * T)) : 0;
  // Invalidations of active ranges per second: a split makes the parent stale and the child new.
  const invalS = a.activeFraction * (2 * splitsT + lcT) * tps;
  // Cold caches: each gateway misses each active range on its first touch in the run; an invalidation
  // only adds a miss where the gateway had already cached the range (mean over the run of 1 − e^{−αt}).
  const coldMisses = a.cold ? (C * Ra * (1 - Math.exp(-alpha * T))) / T : 0;
  const cachedShare = a.cold && alpha * T > 0 ? 1 - (1 - Math.exp(-alpha * T)) / (alpha * T) : 1;
  const misses = C * invalS * pMiss * cachedShare + coldMisses;
  // With hints a stale entry (or the child of a cached parent) is fixed by the error: only cold misses
  // reach the meta range.
  const metaLookups = a.hints ? coldMisses : misses;

  // TSO: ts requests of one store in one tick fall uniformly into m windows; an RPC per occupied window.
  const tsS = reqS * a.txnFraction * a.tsPerTxn;
  let tsoRpcs = tsS;
  if (a.tsoWindowMs > 0) {
    const m = Math.max(1, Math.round(a.tickMs / a.tsoWindowMs));
    const n = Math.round(opsT);
    const q = a.txnFraction;
    const emptyProb = Math.pow(1 - q + q * Math.pow(1 - 1 / m, a.tsPerTxn), n);
    tsoRpcs = a.stores * m * (1 - emptyProb) * tps;
  }
  return {
    hbPlain,
    hbCoalesced,
    hbQuiesced,
    hbCoalescedQuiesced,
    awakeRanges: awake,
    livenessPairs: livePairsAll,
    requests: reqS,
    cacheMisses: misses,
    metaLookups,
    metaWrites: (splitsT + 3 * movesT) * tps,
    descriptorWrites: (2 * splitsT + 3 * movesT) * tps,
    rangeReports: R / a.reportS,
    tsRequests: tsS,
    tsoRpcs,
  };
}

export interface ScaleSimResult {
  args: ScaleArgs;
  counts: ScaleCounts;
  ranges: { start: number; end: number };
  /** Replicas per store: max / mean (placement balance). */
  replicasPerStore: { max: number; mean: number };
  wallMs: number;
}

/** Runs the simulation: counts, per second of measured simulated time. Deterministic for a seed. */
export function runScaleSim(a: ScaleArgs): ScaleSimResult {
  const w0 = performance.now();
  const rand = mulberry32(a.seed);
  const S = a.stores;
  const RF = a.rf;
  if (S < RF) throw new Error(`need at least rf=${RF} stores`);
  const { total, warm } = ticksOf(a);
  const splitsT = perTick(a, a.splitsPer1k);
  const lcT = perTick(a, a.leaderChangesPer1k);
  const movesT = perTick(a, a.movesPer1k);
  const cap = a.ranges + Math.ceil(splitsT * total) + 2;

  // The shard map.
  const rep = new Int32Array(cap * RF);
  const leaderSlot = new Uint8Array(cap);
  const gen = new Uint32Array(cap); // bumped by a split or leader change: what a cache entry is checked against
  const parent = new Int32Array(cap).fill(-1);
  const lastAct = new Int32Array(cap).fill(-1_000_000); // tick of the last write/event (quiescence)
  const reportTicks = Math.max(1, Math.round((a.reportS * 1000) / a.tickMs));
  const phase = new Int32Array(cap); // tick offset of each leader's periodic report (random: reports spread)
  const active = new Uint8Array(cap);
  const activeList: number[] = [];
  const pairRef = new Int32Array(S * S); // ranges shared by each ordered store pair
  let sharedPairs = 0;
  const addPairs = (r: number, d: 1 | -1) => {
    for (let i = 0; i < RF; i++) {
      for (let j = 0; j < RF; j++) {
        if (i === j) continue;
        const k = rep[r * RF + i]! * S + rep[r * RF + j]!;
        const before = pairRef[k]!;
        pairRef[k] = before + d;
        if (before === 0 && d === 1) sharedPairs++;
        else if (before === 1 && d === -1) sharedPairs--;
      }
    }
  };
  const pick = (n: number) => Math.floor(rand() * n);
  let R = a.ranges;
  for (let r = 0; r < R; r++) {
    if (a.placement === 'ring') {
      for (let i = 0; i < RF; i++) rep[r * RF + i] = (r + i) % S;
    } else {
      for (let i = 0; i < RF; i++) {
        const taken = (x: number) => {
          for (let j = 0; j < i; j++) if (rep[r * RF + j] === x) return true;
          return false;
        };
        // Rejection sampling, bounded: after 64 misses (never seen with S ≥ RF) the first free store.
        let s = pick(S);
        for (let tries = 0; taken(s) && tries < 64; tries++) s = pick(S);
        for (let x = 0; taken(s) && x < S; x++) s = x;
        rep[r * RF + i] = s;
      }
    }
    leaderSlot[r] = pick(RF);
    gen[r] = 1;
    phase[r] = pick(reportTicks);
    addPairs(r, 1);
  }
  // The active set: a seeded sample (random, so that it is spread over the stores like hot data is).
  const nActive = Math.max(1, Math.round(a.ranges * a.activeFraction));
  {
    const order = Array.from({ length: a.ranges }, (_, i) => i);
    for (let i = 0; i < nActive; i++) {
      const j = i + pick(a.ranges - i);
      [order[i], order[j]] = [order[j]!, order[i]!];
      active[order[i]!] = 1;
      activeList.push(order[i]!);
    }
  }
  const perStore = new Int32Array(S);
  for (let i = 0; i < a.ranges * RF; i++) perStore[rep[i]!]!++;

  // Gateway range caches: the generation each gateway last learned per range (0 = not cached).
  const cache = new Uint32Array(S * cap);
  if (!a.cold) for (let g = 0; g < S; g++) cache.set(gen.subarray(0, a.ranges), g * cap);

  const c: ScaleCounts = Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as unknown as ScaleCounts;
  const stampAll = new Int32Array(S * S).fill(-1);
  const stampAwake = new Int32Array(S * S).fill(-1);
  const m = a.tsoWindowMs > 0 ? Math.max(1, Math.round(a.tickMs / a.tsoWindowMs)) : 0;
  const slotStamp = new Int32Array(Math.max(1, m)).fill(-1);
  let slotEpoch = 0;
  const opsT = Math.round((a.opsPerStore * a.tickMs) / 1000);
  // Event targets: a deterministic share `activeFraction` of them hits the active set (a uniform pick
  // would too, on average; stratifying removes the sampling noise of a few dozen events from the count
  // of invalidated active ranges, which the routing numbers are proportional to).
  // One accumulator per event kind: a shared one aliases with the fixed order of kinds in a tick.
  const accActive = [0, 0, 0];
  const target = (kind: 0 | 1 | 2): number => {
    accActive[kind]! += a.activeFraction;
    if (accActive[kind]! >= 1) {
      accActive[kind]!--;
      return activeList[pick(activeList.length)]!;
    }
    for (let i = 0; i < 100; i++) {
      const x = pick(R);
      if (!active[x]) return x;
    }
    return pick(R);
  };
  let accSplit = 0;
  let accLc = 0;
  let accMove = 0;

  for (let t = 0; t < total; t++) {
    // Routing, meta and TSO counts cover every tick (cold caches fill from the first one); heartbeat
    // counts skip the first quiesceTicks (every range starts quiesced).
    const measured = t >= warm;
    const add = (k: keyof ScaleCounts, n: number) => {
      if (measured || !HEARTBEAT_KEYS.has(k)) c[k] += n;
    };
    // 1. Shard-map changes of this tick.
    accSplit += splitsT;
    for (; accSplit >= 1; accSplit--) {
      const x = target(0);
      const y = R++;
      for (let i = 0; i < RF; i++) rep[y * RF + i] = rep[x * RF + i]!; // the right half is on the same stores
      leaderSlot[y] = leaderSlot[x]!;
      gen[x]!++;
      gen[y] = 1;
      phase[y] = pick(reportTicks);
      parent[y] = x;
      lastAct[x] = t;
      lastAct[y] = t;
      if (active[x]) {
        active[y] = 1;
        activeList.push(y);
      }
      addPairs(y, 1);
      for (let i = 0; i < RF; i++) perStore[rep[y * RF + i]!]!++;
      add('metaWrites', 1); // one CAS batch: left descriptor updated, right one created
      add('descriptorWrites', 2);
    }
    accLc += lcT;
    for (; accLc >= 1; accLc--) {
      const x = target(1);
      leaderSlot[x] = (leaderSlot[x]! + 1 + pick(RF - 1)) % RF;
      gen[x]!++;
      lastAct[x] = t;
    }
    accMove += movesT;
    for (; accMove >= 1; accMove--) {
      // Replace one follower by a store not in the range; learner add, promote, remove: three descriptor
      // writes. The leader stays, so cached routes stay right (no gen bump).
      const x = target(2);
      let slot = pick(RF - 1);
      if (slot >= leaderSlot[x]!) slot++;
      let s: number;
      let inRange: boolean;
      let tries = 0;
      do {
        s = pick(S);
        inRange = false;
        for (let i = 0; i < RF; i++) if (rep[x * RF + i] === s) inRange = true;
      } while (inRange && ++tries < 100);
      if (inRange) continue;
      addPairs(x, -1);
      perStore[rep[x * RF + slot]!]!--;
      rep[x * RF + slot] = s;
      perStore[s]!++;
      addPairs(x, 1);
      lastAct[x] = t;
      add('metaWrites', 3);
      add('descriptorWrites', 3);
    }

    // 2. Client requests through every gateway, then TSO batching per gateway.
    for (let g = 0; g < S; g++) {
      let ts = 0;
      const base = g * cap;
      for (let i = 0; i < opsT; i++) {
        const r = activeList[pick(activeList.length)]!;
        add('requests', 1);
        if (cache[base + r] !== gen[r]) {
          add('cacheMisses', 1);
          // With hints the error names the fix: NOT_LEADER the leader, EPOCH_NOT_MATCH the current
          // descriptors — also those of a new right half when the gateway knew its parent.
          const known = cache[base + r] !== 0 || (parent[r]! >= 0 && cache[base + parent[r]!] !== 0);
          if (!(a.hints && known)) add('metaLookups', 1);
          cache[base + r] = gen[r]!;
        }
        if (rand() < a.writeFraction || a.readsWake) lastAct[r] = t;
        if (rand() < a.txnFraction) ts += a.tsPerTxn;
      }
      add('tsRequests', ts);
      if (m === 0) add('tsoRpcs', ts);
      else {
        slotEpoch++;
        let rpcs = 0;
        for (let i = 0; i < ts; i++) {
          const sl = pick(m);
          if (slotStamp[sl] !== slotEpoch) {
            slotStamp[sl] = slotEpoch;
            rpcs++;
          }
        }
        add('tsoRpcs', rpcs);
      }
    }

    // 3. Heartbeats of this tick (after the tick's writes: a range written now heartbeats now).
    let plain = 0;
    let coalesced = 0;
    let quiesced = 0;
    let coalescedQuiesced = 0;
    let awake = 0;
    let reports = 0;
    const W = a.quiesceTicks;
    for (let r = 0; r < R; r++) {
      const ls = leaderSlot[r]!;
      const l = rep[r * RF + ls]!;
      const isAwake = lastAct[r]! > t - W;
      if (isAwake) awake++;
      for (let j = 0; j < RF; j++) {
        if (j === ls) continue;
        const k = l * S + rep[r * RF + j]!;
        plain += 2;
        if (stampAll[k] !== t) {
          stampAll[k] = t;
          coalesced += 2;
        }
        if (isAwake) {
          quiesced += 2;
          if (stampAwake[k] !== t) {
            stampAwake[k] = t;
            coalescedQuiesced += 2;
          }
        }
      }
      if ((t + phase[r]!) % reportTicks === 0) reports++;
    }
    const liveness = t % a.livenessTicks === 0 ? 2 * sharedPairs : 0;
    add('hbPlain', plain);
    add('hbCoalesced', coalesced);
    add('hbQuiesced', quiesced + liveness);
    add('hbCoalescedQuiesced', coalescedQuiesced + liveness);
    add('awakeRanges', awake);
    add('livenessPairs', sharedPairs);
    add('rangeReports', reports);
  }

  const measuredTicks = total - warm;
  for (const k of COUNT_KEYS) {
    const ticks = HEARTBEAT_KEYS.has(k) ? measuredTicks : total;
    c[k] = k === 'awakeRanges' || k === 'livenessPairs' ? c[k] / ticks : c[k] / ((ticks * a.tickMs) / 1000);
  }
  let max = 0;
  for (let s = 0; s < S; s++) max = Math.max(max, perStore[s]!);
  return { args: a, counts: c, ranges: { start: a.ranges, end: R }, replicasPerStore: { max, mean: (R * RF) / S }, wallMs: Math.round(performance.now() - w0) };
}

const LABELS: Record<keyof ScaleCounts, string> = {
  hbPlain: 'heartbeat msgs/s, per range (today)',
  hbCoalesced: 'heartbeat msgs/s, coalesced per store pair',
  hbQuiesced: 'heartbeat msgs/s, quiesced (+ liveness)',
  hbCoalescedQuiesced: 'heartbeat msgs/s, coalesced + quiesced',
  awakeRanges: 'awake ranges (mean)',
  livenessPairs: 'store pairs sharing a range',
  requests: 'client requests/s',
  cacheMisses: 'range-cache misses/s',
  metaLookups: 'meta lookups/s',
  metaWrites: 'meta writes/s (CAS batches)',
  descriptorWrites: 'descriptors written/s',
  rangeReports: 'range reports/s (PD-style)',
  tsRequests: 'timestamps asked/s',
  tsoRpcs: 'TSO RPCs/s (batched per store)',
};

const fmt = (x: number) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x === 0 ? 0 : 2));

/** One markdown table: metric | model | simulated | sim/model. */
export function compareTable(model: ScaleCounts, sim: ScaleCounts): string {
  const lines = ['| metric | model | simulated | sim/model |', '|---|---:|---:|---:|'];
  for (const k of COUNT_KEYS) {
    const ratio = model[k] === 0 ? (sim[k] === 0 ? '—' : '∞') : (sim[k] / model[k]).toFixed(3);
    lines.push(`| ${LABELS[k]} | ${fmt(model[k])} | ${fmt(sim[k])} | ${ratio} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opt = (d: number | string) => ({ type: 'string' as const, default: String(d) });
  const { values: v } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10x1000,100x10000,300x30000,100x100000' },
      rf: opt(DEFAULTS.rf),
      placement: opt(DEFAULTS.placement),
      seconds: opt(DEFAULTS.seconds),
      'tick-ms': opt(DEFAULTS.tickMs),
      active: opt(DEFAULTS.activeFraction),
      'ops-per-store': opt(DEFAULTS.opsPerStore),
      'write-fraction': opt(DEFAULTS.writeFraction),
      'reads-wake': { type: 'boolean', default: DEFAULTS.readsWake },
      'txn-fraction': opt(DEFAULTS.txnFraction),
      'ts-per-txn': opt(DEFAULTS.tsPerTxn),
      'tso-window-ms': opt(DEFAULTS.tsoWindowMs),
      'splits-per-1k': opt(DEFAULTS.splitsPer1k),
      'leader-changes-per-1k': opt(DEFAULTS.leaderChangesPer1k),
      'moves-per-1k': opt(DEFAULTS.movesPer1k),
      hints: { type: 'boolean', default: DEFAULTS.hints },
      cold: { type: 'boolean', default: DEFAULTS.cold },
      'quiesce-ticks': opt(DEFAULTS.quiesceTicks),
      'liveness-ticks': opt(DEFAULTS.livenessTicks),
      'report-s': opt(DEFAULTS.reportS),
      seed: opt(DEFAULTS.seed),
      json: { type: 'boolean', default: false },
    },
  });
  const base: Omit<ScaleArgs, 'stores' | 'ranges'> = {
    rf: Number(v.rf),
    placement: v.placement === 'ring' ? 'ring' : 'random',
    seconds: Number(v.seconds),
    tickMs: Number(v['tick-ms']),
    activeFraction: Number(v.active),
    opsPerStore: Number(v['ops-per-store']),
    writeFraction: Number(v['write-fraction']),
    readsWake: v['reads-wake'],
    txnFraction: Number(v['txn-fraction']),
    tsPerTxn: Number(v['ts-per-txn']),
    tsoWindowMs: Number(v['tso-window-ms']),
    splitsPer1k: Number(v['splits-per-1k']),
    leaderChangesPer1k: Number(v['leader-changes-per-1k']),
    movesPer1k: Number(v['moves-per-1k']),
    hints: v.hints,
    cold: v.cold,
    quiesceTicks: Number(v['quiesce-ticks']),
    livenessTicks: Number(v['liveness-ticks']),
    reportS: Number(v['report-s']),
    seed: Number(v.seed),
  };
  for (const [k, x] of Object.entries(base)) if (typeof x === 'number' && !Number.isFinite(x)) throw new Error(`--${k}: not a number`);
  console.log(`scale-sim: ${JSON.stringify(base)}`);
  const out: Array<{ model: ScaleCounts; sim: ScaleSimResult }> = [];
  for (const size of v.sizes.split(',')) {
    const [stores, ranges] = size.split('x').map(Number);
    if (!stores || !ranges) throw new Error(`--sizes: expected STORESxRANGES, got ${size}`);
    const args: ScaleArgs = { ...base, stores, ranges };
    const sim = runScaleSim(args);
    const model = scaleModel(args);
    out.push({ model, sim });
    console.log(`\n### ${stores} stores × ${ranges.toLocaleString('en-US')} ranges (→ ${sim.ranges.end.toLocaleString('en-US')} after splits; replicas per store max ${sim.replicasPerStore.max}, mean ${Math.round(sim.replicasPerStore.mean)}; ${base.seconds} s simulated in ${(sim.wallMs / 1000).toFixed(1)} s)\n`);
    console.log(compareTable(model, sim.counts));
  }
  if (v.json) console.log(JSON.stringify(out));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
