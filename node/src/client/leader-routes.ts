// Which node leads the range of a key, as last learned from Kv.Routes (sharding; issue 16's "send a
// lone request straight to its range's leader"). A hint only: a request sent to a node that is no longer
// the leader is still served (followers forward writes and serve ReadIndex reads), just one hop slower,
// and routing refusals, NOT_LEADER and transport failures mark the table stale so it is fetched again.
// Pure data structure: the client does the fetching (single flight, rate-limited).

export interface LeaderRoute {
  /** Inclusive; empty = -∞. */
  start: Buffer;
  /** Exclusive; empty = +∞. */
  end: Buffer;
  /** Client address of the range's leader ('' = unknown). */
  leaderAddress: string;
  version: number;
}

export class LeaderRoutes {
  /** Sorted by start, non-overlapping (one store's view: its own ranges). */
  private routes: LeaderRoute[] = [];
  private fetchedAt = 0;
  private staleSince: number | undefined = 0;

  /** Replaces the table with a node's answer (ranges with an empty bound sort first/last). */
  update(routes: readonly LeaderRoute[], now: number): void {
    this.routes = [...routes].sort((a, b) => Buffer.compare(a.start, b.start));
    this.fetchedAt = now;
    this.staleSince = undefined;
  }

  /** Something suggested the table is out of date (leader change, split, unreachable node). */
  markStale(now: number): void {
    this.staleSince ??= now;
  }

  /** Whether to fetch again: stale, empty, or older than `maxAgeMs`; never more than once per `minIntervalMs`. */
  needsRefresh(now: number, maxAgeMs: number, minIntervalMs: number): boolean {
    if (now - this.fetchedAt < minIntervalMs) return false;
    return this.staleSince !== undefined || this.routes.length === 0 || now - this.fetchedAt > maxAgeMs;
  }

  /** The leader address of the range holding `key`, when known. */
  leaderFor(key: Buffer): string | undefined {
    let lo = 0;
    let hi = this.routes.length - 1;
    let found: LeaderRoute | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.routes[mid]!;
      if (Buffer.compare(r.start, key) <= 0) {
        found = r;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found === undefined) return undefined;
    if (found.end.length > 0 && Buffer.compare(key, found.end) >= 0) return undefined;
    return found.leaderAddress || undefined;
  }

  get size(): number {
    return this.routes.length;
  }
}
