// Small files that must survive a crash or power loss exactly as written (the raft identity file): a
// plain writeFile can leave an empty or torn file after power loss, and even a complete file can vanish
// with its directory entry if the directory was never synced. Write a temp file, fsync it, rename it
// over the target (atomic on POSIX), then fsync the directory so the rename itself is durable.
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The fs calls used (injectable so tests can observe the order and inject failures). */
export type DurableFs = Pick<typeof fs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'rmSync'>;

/**
 * Replaces `path` with `data` durably: after it returns, a crash leaves the new content; a crash before
 * leaves the old content (or no file), never a partial one. Synchronous: used during startup only.
 */
export function writeFileDurablySync(path: string, data: string | Buffer, f: DurableFs = fs): void {
  const dir = dirname(path);
  // One fixed temp name: a crash leaves at most one stale temp file, overwritten by the next attempt.
  const tmp = join(dir, `.${basename(path)}.tmp`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = f.openSync(tmp, 'w', 0o644);
    try {
      let off = 0;
      while (off < buf.length) off += f.writeSync(fd, buf, off, buf.length - off);
      f.fsyncSync(fd);
    } finally {
      f.closeSync(fd);
    }
    f.renameSync(tmp, path);
  } catch (e) {
    f.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = f.openSync(dir, 'r');
  try {
    f.fsyncSync(dfd);
  } finally {
    f.closeSync(dfd);
  }
}
