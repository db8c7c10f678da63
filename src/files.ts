// Writing files so that a reader (a download, the next step, a crash) never sees half of one.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Temporary files of writeFileAtomic (`.<name>.<pid>.<12 hex>.tmp`): file listings never show them. */
export const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * Writes `data` to `filePath` atomically: a temporary file in the same directory, then a rename over the
 * target (readers see the old or the new content, never a partial file); the temporary file is removed on
 * failure. `fsync: false` skips the flush to disk, for outputs a step can regenerate (hundreds of .ddl files).
 * The directory must exist.
 */
export async function writeFileAtomic(filePath: string, data: string | Uint8Array, options: { fsync?: boolean } = {}): Promise<void> {
  const dir = path.dirname(filePath);
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    if (options.fsync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, filePath);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
}
