// Id → dense index lookups for the hot loops (300 000 replica lookups per pass at 100 000 ranges): a
// typed array when the ids are dense enough, a Map otherwise.
export class IdIndex {
  private readonly dense: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;

  constructor(ids: readonly number[]) {
    let max = 0;
    for (const id of ids) if (id > max) max = id;
    if (Number.isSafeInteger(max) && max < 4 * ids.length + 1024 && ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
      this.dense = new Int32Array(max + 1).fill(-1);
      ids.forEach((id, i) => (this.dense![id] = i));
    } else {
      this.map = new Map(ids.map((id, i) => [id, i]));
    }
  }

  /** The index of `id`, or −1. */
  get(id: number): number {
    if (this.dense) return id >= 0 && id < this.dense.length ? this.dense[id]! : -1;
    return this.map!.get(id) ?? -1;
  }
}
