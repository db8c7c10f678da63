// Writing files so that a reader (a download, the next step, a crash) never sees half of one.
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
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
  const staged = await stageFile(filePath, data, options);
  await staged.commit();
}

export interface StagedFile {
  /** Renames the staged content over the target (removing the temporary file if that fails). */
  commit(): Promise<void>;
  /** Removes the staged content; the target is untouched. */
  discard(): Promise<void>;
}

/** The first half of writeFileAtomic: the content is written and flushed next to the target, which is
 * only replaced by commit(), e.g. once a store write that must agree with the file has succeeded. */
export async function stageFile(filePath: string, data: string | Uint8Array, options: { fsync?: boolean } = {}): Promise<StagedFile> {
  const dir = path.dirname(filePath);
  // The temporary file is created with O_EXCL and renamed over the target (replacing a link, never writing
  // through one); what remains is a directory that is itself a link.
  await checkRealDirectory(dir);
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
  try {
    handle = await fsp.open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    if (options.fsync !== false) await handle.sync();
    await handle.close();
    handle = undefined;
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  const discard = () => fsp.unlink(tmp).catch(() => undefined);
  return {
    commit: async () => {
      try {
        await fsp.rename(tmp, filePath);
      } catch (err) {
        await discard();
        throw err;
      }
    },
    discard,
  };
}

// ---------------------------------------------------------------------------------------------------------
// No symbolic links inside a task directory: a link planted there (or a task directory that is itself a
// link) must never make us read or write a file elsewhere. The last component is opened with O_NOFOLLOW;
// the directories on the way are checked with lstat.

/** A path refused because it is, or goes through, a symbolic link (or is not what it should be). */
export class UnsafePathError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'UnsafePathError';
  }
}

const NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException)?.code ?? '');
}

/** Refuses a directory that is a symbolic link or not a directory; a missing one is fine (nothing to follow). */
export function checkRealDirectorySync(dir: string): void {
  let stat: Stats;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  if (stat.isSymbolicLink()) throw new UnsafePathError(dir, 'the directory is a symbolic link');
  if (!stat.isDirectory()) throw new UnsafePathError(dir, 'not a directory');
}

export async function checkRealDirectory(dir: string): Promise<void> {
  let stat: Stats;
  try {
    stat = await fsp.lstat(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  if (stat.isSymbolicLink()) throw new UnsafePathError(dir, 'the directory is a symbolic link');
  if (!stat.isDirectory()) throw new UnsafePathError(dir, 'not a directory');
}

/** Opens a file for reading without following a link; undefined when it does not exist. Refuses links,
 * FIFOs and devices (a FIFO would block the reader, /dev/zero would never end). */
export async function openForReading(file: string): Promise<FileHandle | undefined> {
  await checkRealDirectory(path.dirname(file));
  let handle: FileHandle;
  try {
    handle = await fsp.open(file, fsConstants.O_RDONLY | NOFOLLOW | (fsConstants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (isErrno(error, 'ELOOP', 'EMLINK')) throw new UnsafePathError(file, 'the file is a symbolic link');
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new UnsafePathError(file, 'not a regular file');
  }
  return handle;
}

/** lstat that refuses a link; undefined when missing. */
export async function statNoFollow(file: string): Promise<Stats | undefined> {
  await checkRealDirectory(path.dirname(file));
  const stat = await fsp.lstat(file).catch((error) => {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  });
  if (stat?.isSymbolicLink()) throw new UnsafePathError(file, 'the file is a symbolic link');
  return stat;
}

/** Reads a whole file without following a link; undefined when missing. */
export async function readFileNoFollow(file: string): Promise<Buffer | undefined> {
  const handle = await openForReading(file);
  if (!handle) return undefined;
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Appends to a file (created if missing) without following a link, in one write(2) with O_APPEND. */
export function appendNoFollowSync(file: string, text: string): void {
  checkRealDirectorySync(path.dirname(file));
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | NOFOLLOW | (fsConstants.O_NONBLOCK ?? 0), 0o644);
  } catch (error) {
    if (isErrno(error, 'ELOOP', 'EMLINK')) throw new UnsafePathError(file, 'the file is a symbolic link');
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UnsafePathError(file, 'not a regular file');
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export async function appendNoFollow(file: string, text: string): Promise<void> {
  await checkRealDirectory(path.dirname(file));
  let handle: FileHandle;
  try {
    handle = await fsp.open(file, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | NOFOLLOW | (fsConstants.O_NONBLOCK ?? 0), 0o644);
  } catch (error) {
    if (isErrno(error, 'ELOOP', 'EMLINK')) throw new UnsafePathError(file, 'the file is a symbolic link');
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new UnsafePathError(file, 'not a regular file');
    await handle.write(text);
  } finally {
    await handle.close();
  }
}
