// A synced write with no ops must still sync (LevelDB syncs its log only while writing a record).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect } from '../../../node/src/engine/engine.js';
import { LevelEngine } from '../../../node/src/engine/level-engine.js';

interface NativeBatch {
  write(opts?: { sync?: boolean }): Promise<void>;
}

describe('LevelEngine: a synced empty write', () => {
  let dir: string;
  let engine: LevelEngine;
  /** `sync` of every native batch written. */
  let written: boolean[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kvs-engine-sync-'));
    engine = await LevelEngine.open(dir);
    written = [];
    // Watch the native batches the engine writes (the engine's only write path).
    const db = (engine as unknown as { db: { batch(): NativeBatch } }).db;
    const batch = db.batch.bind(db);
    db.batch = () => {
      const b = batch();
      const write = b.write.bind(b);
      b.write = (opts) => {
        written.push(opts?.sync === true);
        return write(opts);
      };
      return b;
    };
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('write([], { sync: true }) writes one synced record and changes no visible state', async () => {
    await engine.write([{ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') }]);
    await engine.write([], { sync: true });
    assert.deepEqual(written, [false, true], 'the empty synced write reached LevelDB as a synced batch');
    assert.deepEqual(
      (await collect(engine)).map(([k]) => k.toString()),
      ['a'],
    );
  });

  it('an unsynced empty write writes nothing', async () => {
    await engine.write([]);
    await engine.write([], { sync: false });
    assert.deepEqual(written, []);
  });
});
