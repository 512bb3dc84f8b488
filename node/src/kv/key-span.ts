// Whether a user key lies in [start, end) — undefined or empty bounds are unbounded (the convention of
// every KeyRange, scan and lock span in the storage layer).
export function inKeyRange(key: Buffer, start: Buffer | undefined, end: Buffer | undefined): boolean {
  if (start !== undefined && start.length > 0 && Buffer.compare(key, start) < 0) return false;
  if (end !== undefined && end.length > 0 && Buffer.compare(key, end) >= 0) return false;
  return true;
}
