// Sharding for the benchmarks: split the loaded key space into ranges and spread their leaders.
import { AdminClient } from '../../node/src/client/index.js';
import { keyName } from './keys.js';

/** Splits the record key space into `ranges` ranges and puts their leaders round-robin on the stores. */
export async function shard(addresses: string[], ranges: number, stores: number, records: number): Promise<void> {
  const admin = new AdminClient(addresses);
  try {
    for (let i = 1; i < ranges; i++) {
      const at = Buffer.from(keyName(Math.floor((i * records) / ranges)));
      // Right after start the group may have no leader yet (NOT_LEADER without a hint): retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.splitRange(at);
          break;
        } catch (e) {
          if (attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    const list = (await admin.ranges()).ranges;
    for (const [j, r] of list.entries()) {
      const to = (j % stores) + 1;
      if (r.leaderId !== to) await admin.transferLeader(to, 5000, r.rangeId).catch((e: unknown) => console.error(`range ${r.rangeId}: leader transfer to ${to} failed: ${(e as Error).message}`));
    }
    // A range just split off may still be electing (its transfer above then failed): measuring before it
    // has a leader times requests out (a lone-txn run once failed so).
    let now = (await admin.ranges()).ranges;
    for (let i = 0; i < 100 && now.some((r) => r.leaderId === 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = (await admin.ranges()).ranges;
    }
    const leaders = new Map<number, number>();
    for (const r of now) leaders.set(r.leaderId, (leaders.get(r.leaderId) ?? 0) + 1);
    console.error(`kvs: ${list.length} ranges, leaders per store ${JSON.stringify(Object.fromEntries(leaders))}`);
  } finally {
    admin.close();
  }
}
