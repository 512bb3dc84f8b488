// A classic-level database in a fresh temp dir for the engine microbenchmarks (engine-ceiling,
// threadpool-hop): opened, handed to `fn`, closed and deleted whatever `fn` does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

export async function withTempLevel<T>(prefix: string, fn: (db: ClassicLevel<Buffer, Buffer>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open();
    return await fn(db);
  } finally {
    await db.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a benchmark's main; an error is printed and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
