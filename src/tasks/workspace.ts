/**
 * Task directories and safe paths: task ids, download paths that never leave the task directory,
 * `table_list_file` paths that never leave the input folder, the task file list (guide §4.1) and atomic writes.
 */
import { localIso } from '../time.ts';
import type { Dirent, Stats } from 'node:fs';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { TEMP_FILE } from '../files.ts';
import type { Lang } from '../messages.ts';

export const TASK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidTaskId(id: unknown): id is string {
  return typeof id === 'string' && TASK_ID_PATTERN.test(id);
}

export type WorkspacePathErrorCode = 'INVALID_TASK_ID' | 'INVALID_PATH' | 'FILE_NOT_FOUND';

/** A refused or missing path. `statusCode`: 400 for INVALID_TASK_ID / INVALID_PATH, 404 for FILE_NOT_FOUND. */
export class WorkspacePathError extends Error {
  readonly code: WorkspacePathErrorCode;
  readonly statusCode: 400 | 404;
  /** English variant of `message` (the default message is Chinese). */
  readonly messageEn: string;
  /** The path (or task id) as given by the caller. */
  readonly path: string;

  constructor(code: WorkspacePathErrorCode, message: string, messageEn: string, givenPath: string) {
    super(message);
    this.name = 'WorkspacePathError';
    this.code = code;
    this.statusCode = code === 'FILE_NOT_FOUND' ? 404 : 400;
    this.messageEn = messageEn;
    this.path = givenPath;
  }
}

function invalidPath(given: string, zh: string, en: string): WorkspacePathError {
  return new WorkspacePathError('INVALID_PATH', `无效的文件路径：${zh}`, `Invalid file path: ${en}`, given);
}

function notFound(given: string): WorkspacePathError {
  return new WorkspacePathError(
    'FILE_NOT_FOUND',
    `文件不存在：${given}`,
    `File not found: ${given}`,
    given,
  );
}

/** Absolute path `<outputDir>/<taskId>`; throws WorkspacePathError('INVALID_TASK_ID') for a bad id. */
export function taskDirectory(outputDir: string, taskId: string): string {
  if (!isValidTaskId(taskId)) {
    const shown = typeof taskId === 'string' ? taskId : String(taskId);
    throw new WorkspacePathError(
      'INVALID_TASK_ID',
      `无效的任务ID：${JSON.stringify(shown)}（只允许字母、数字、_ 和 -，最长 64 个字符）`,
      `Invalid task id ${JSON.stringify(shown)} (letters, digits, "_" and "-" only, at most 64 characters)`,
      shown,
    );
  }
  return path.resolve(outputDir, taskId);
}

// ---------------------------------------------------------------------------------------------------------
// Path checks

const MAX_PATH_LENGTH = 1024;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** Percent-encoded '.', '/', '\', NUL and '%' (double encoding) are never part of a legitimate download path. */
const ENCODED_DANGEROUS = /%(2e|2f|5c|00|25)/i;

/** True when `child` (absolute, normalised) is `parent` itself or below it. */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function isStrictlyInside(parent: string, child: string): boolean {
  return child !== parent && isInside(parent, child);
}

/** Syntactic checks of a relative path made of '/'-separated segments; throws INVALID_PATH. */
function checkRelativeSyntax(given: string, value: string): string[] {
  if (value.includes('\0')) throw invalidPath(given, '包含 NUL 字符', 'contains a NUL byte');
  if (CONTROL_CHARS.test(value)) throw invalidPath(given, '包含控制字符', 'contains control characters');
  if (value.includes('\\')) throw invalidPath(given, '包含反斜杠', 'contains a backslash');
  if (value.startsWith('/') || path.isAbsolute(value) || /^[A-Za-z]:/.test(value)) {
    throw invalidPath(given, '不允许绝对路径', 'absolute paths are not allowed');
  }
  const segments = value.split('/');
  for (const seg of segments) {
    if (seg === '') throw invalidPath(given, '包含空的路径段', 'contains an empty segment');
    if (seg === '.' || seg === '..') throw invalidPath(given, '不允许 . 或 .. 路径段', '"." and ".." segments are not allowed');
  }
  return segments;
}

/**
 * The syntactic checks for a download path (already URL-decoded once by the router): also decoded once
 * more, and any percent-encoded '.', '/', '\', NUL or '%' left in it is refused. Returns the segments.
 */
export function checkDownloadPathSyntax(relativePath: string): string[] {
  if (typeof relativePath !== 'string' || relativePath === '') {
    throw invalidPath(String(relativePath ?? ''), '路径为空', 'the path is empty');
  }
  if (relativePath.length > MAX_PATH_LENGTH) throw invalidPath(relativePath, '路径过长', 'the path is too long');
  const segments = checkRelativeSyntax(relativePath, relativePath);
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    decoded = undefined; // a literal '%' that is not an escape: nothing hidden
  }
  if (decoded !== undefined && decoded !== relativePath) checkRelativeSyntax(relativePath, decoded);
  if (ENCODED_DANGEROUS.test(relativePath)) {
    throw invalidPath(relativePath, '包含编码的路径字符', 'contains percent-encoded path characters');
  }
  return segments;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

async function realpathOrThrow(p: string, given: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP') throw invalidPath(given, '符号链接循环', 'symbolic link loop');
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'ENAMETOOLONG') {
      throw notFound(given);
    }
    throw err;
  }
}

async function requireRegularFile(realPath: string, given: string): Promise<void> {
  let st: Stats;
  try {
    st = await fsp.stat(realPath);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') throw notFound(given);
    throw err;
  }
  if (!st.isFile()) throw notFound(given);
}

/**
 * Resolves a download path (relative, '/'-separated, already URL-decoded) inside `baseDir`.
 * INVALID_PATH (400): absolute, '..' or '.' segments (also when percent-encoded), backslashes, NUL/control
 * characters, empty segments, a real path (symlinks followed) outside realpath(baseDir).
 * FILE_NOT_FOUND (404): missing file or base directory, not a regular file (directories...).
 * Returns the real absolute path of the file.
 */
export async function resolveInsideDirectory(baseDir: string, relativePath: string): Promise<string> {
  const segments = checkDownloadPathSyntax(relativePath);
  const realBase = await realpathOrThrow(baseDir, relativePath);
  const candidate = path.join(realBase, ...segments);
  if (!isStrictlyInside(realBase, candidate)) {
    throw invalidPath(relativePath, '路径超出任务目录', 'the path leaves the task directory');
  }
  const real = await realpathOrThrow(candidate, relativePath);
  if (!isStrictlyInside(realBase, real)) {
    throw invalidPath(relativePath, '路径指向任务目录之外', 'the path points outside the task directory');
  }
  await requireRegularFile(real, relativePath);
  return real;
}

/**
 * Resolves a task's `table_list_file` (given at creation) inside `inputDir`: a relative path resolves
 * against it, an absolute path is accepted only when inside it. Escapes ('..', symlinks pointing out),
 * NUL/control characters and backslashes → INVALID_PATH; missing or not a regular file → FILE_NOT_FOUND.
 * Returns the real absolute path.
 */
export async function resolveInputFile(inputDir: string, userPath: string): Promise<string> {
  if (typeof userPath !== 'string' || userPath.trim() === '') {
    throw invalidPath(String(userPath ?? ''), '路径为空', 'the path is empty');
  }
  if (userPath.length > MAX_PATH_LENGTH * 4) throw invalidPath(userPath, '路径过长', 'the path is too long');
  if (userPath.includes('\0')) throw invalidPath(userPath, '包含 NUL 字符', 'contains a NUL byte');
  if (CONTROL_CHARS.test(userPath)) throw invalidPath(userPath, '包含控制字符', 'contains control characters');
  if (userPath.includes('\\')) throw invalidPath(userPath, '包含反斜杠', 'contains a backslash');

  const base = path.resolve(inputDir);
  const realBase = await realpathOrThrow(base, userPath);
  const candidate = path.resolve(base, userPath);
  // Lexical check first, so that an escape is a 400 even when the target does not exist. An absolute path
  // may be written against either the configured or the real form of the input folder.
  const lexicallyInside = isStrictlyInside(base, candidate) || isStrictlyInside(realBase, candidate);
  if (!lexicallyInside) {
    throw invalidPath(userPath, '路径超出输入目录', 'the path is outside the input folder');
  }
  const real = await realpathOrThrow(candidate, userPath);
  if (!isStrictlyInside(realBase, real)) {
    throw invalidPath(userPath, '路径指向输入目录之外', 'the path points outside the input folder');
  }
  await requireRegularFile(real, userPath);
  return real;
}

// ---------------------------------------------------------------------------------------------------------
// File list (guide §4.1)

export interface FileItem {
  /** Path relative to the task directory, '/'-separated (e.g. `vector_bak/x.csv`). */
  file_name: string;
  /** Extension without the dot, lower case (`json`, `log`, `ddl`, `backup`...); '' when none. */
  file_type: string;
  file_size: number;
  file_size_human: string;
  /** Local time, `YYYY-MM-DDTHH:MM:SS`. */
  created_at: string;
  is_primary: boolean;
  description: string;
  download_url: string;
}

export interface TaskFileList {
  files: FileItem[];
  total_files: number;
  total_size: number;
  total_size_human: string;
}

const UNITS = ['KB', 'MB', 'GB'] as const;

/** `512 B`, `100.0 KB`, `1.5 MB`, `2.0 GB` (1024-based, one decimal; GB is the largest unit). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) bytes = 0;
  if (bytes < 1024) return `${Math.floor(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  // Move up while the rounded value would read 1024.0 or more.
  while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

type Describer = { test: (rel: string, base: string) => boolean; zh: string; en: string };

const DESCRIPTIONS: Describer[] = [
  { test: (_r, b) => isPrimaryName(b), zh: 'Question-SQL训练数据对', en: 'Question-SQL training pairs' },
  { test: (_r, b) => b === 'data_pipeline.log', zh: '任务执行日志', en: 'Task execution log' },
  { test: (_r, b) => b === 'task_config.json', zh: '任务配置', en: 'Task configuration' },
  { test: (_r, b) => b === 'table_list.txt', zh: '表清单文件', en: 'Table list file' },
  { test: (_r, b) => b === 'metadata.txt', zh: '主题元数据 (SQL)', en: 'Theme metadata (SQL)' },
  { test: (_r, b) => b === 'metadata_detail.md', zh: '主题元数据详细说明 (MD)', en: 'Theme metadata details (MD)' },
  {
    test: (_r, b) => b === 'db_query_decision_prompt.txt',
    zh: '数据库查询决策提示词',
    en: 'Database query decision prompt',
  },
  { test: (_r, b) => b === 'filename_mapping.txt', zh: '文件名映射', en: 'File name mapping' },
  { test: (_r, b) => b === 'schema.json', zh: '数据库结构 (JSON)', en: 'Database schema (JSON)' },
  {
    test: (_r, b) => /^sql_validation_.*_summary\.txt$/i.test(b),
    zh: 'SQL验证摘要',
    en: 'SQL validation summary',
  },
  {
    test: (_r, b) => /^sql_validation_.*_report\.json$/i.test(b),
    zh: 'SQL验证报告 (JSON)',
    en: 'SQL validation report (JSON)',
  },
  { test: (_r, b) => b === 'sql_validation_result.json', zh: 'SQL验证结果索引 (JSON)', en: 'SQL validation result index (JSON)' },
  { test: (_r, b) => /_pair_validated\.json$/i.test(b), zh: '验证通过的Question-SQL对', en: 'Validated question-SQL pairs' },
  { test: (_r, b) => /^training_load_.*_report\.json$/i.test(b), zh: '训练数据加载报告 (JSON)', en: 'Training load report (JSON)' },
  { test: (r) => /^vector_bak\/[^/]+\.csv$/i.test(r), zh: 'Vector表备份', en: 'Vector table backup' },
  { test: (r) => /^vector_bak\/[^/]+\.txt$/i.test(r), zh: 'Vector备份日志', en: 'Vector backup log' },
  { test: (r) => /^vector_bak\/[^/]+\.json$/i.test(r), zh: 'Vector备份清单', en: 'Vector backup manifest' },
  { test: (r) => /^llm_cache\/[0-9a-f]{64}\.json$/.test(r), zh: 'LLM调用缓存', en: 'LLM call cache' },
  { test: (_r, b) => /\.backup$/i.test(b), zh: '备份文件', en: 'Backup file' },
  { test: (_r, b) => /\.meta\.json$/i.test(b), zh: '元数据文件 (JSON)', en: 'Metadata file (JSON)' },
  { test: (_r, b) => /\.ddl$/i.test(b), zh: 'DDL建表语句', en: 'DDL statements' },
  { test: (_r, b) => /_detail\.md$/i.test(b), zh: '表结构详细文档 (MD)', en: 'Table structure documentation (MD)' },
  { test: (_r, b) => /\.log$/i.test(b), zh: '日志文件', en: 'Log file' },
];

/** The question-SQL pair file: `qs_*_pair.json` (not its `.meta.json`, not a `.backup`). */
export function isPrimaryName(baseName: string): boolean {
  return /^qs_.+_pair\.json$/i.test(baseName);
}

/** Description of a file by its relative path ('/'-separated). */
export function describeFile(relativePath: string, lang: Lang = 'zh'): string {
  const base = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  for (const d of DESCRIPTIONS) {
    if (d.test(relativePath, base)) return lang === 'en' ? d.en : d.zh;
  }
  return lang === 'en' ? 'Other file' : '其他文件';
}

/** Extension without the dot, lower case; '' when none (a leading dot alone is not an extension). */
export function fileType(relativePath: string): string {
  return path.posix.extname(relativePath).slice(1).toLowerCase();
}

/** `${prefix}/${segment-wise encodeURIComponent}`. */
export function downloadUrl(downloadUrlPrefix: string, relativePath: string): string {
  const prefix = downloadUrlPrefix.replace(/\/+$/, '');
  return `${prefix}/${relativePath.split('/').map(encodeURIComponent).join('/')}`;
}

const MAX_DEPTH = 16;
const MAX_LISTED_FILES = 100_000;

/**
 * Lists the files of a task directory recursively (guide §4.1). Symlinks are followed only when their
 * real target is a regular file inside the directory; symlinked directories are not descended into.
 * A missing directory yields an empty list. Sorted: primary file(s) first, then by name.
 */
export async function listTaskFiles(
  taskDir: string,
  downloadUrlPrefix: string,
  lang: Lang = 'zh',
): Promise<TaskFileList> {
  let realBase: string;
  try {
    realBase = await fsp.realpath(taskDir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { files: [], total_files: 0, total_size: 0, total_size_human: humanSize(0) };
    throw err;
  }

  const files: FileItem[] = [];
  const walk = async (dirAbs: string, relPrefix: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || files.length >= MAX_LISTED_FILES) return;
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dirAbs, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable: skip
    }
    for (const entry of entries) {
      if (files.length >= MAX_LISTED_FILES) return;
      const name = entry.name;
      const rel = relPrefix === '' ? name : `${relPrefix}/${name}`;
      const abs = path.join(dirAbs, name);
      if (TEMP_FILE.test(name)) continue;
      try {
        // Only list what can be downloaded again by the same name.
        checkDownloadPathSyntax(rel);
      } catch {
        continue;
      }
      if (entry.isDirectory()) {
        await walk(abs, rel, depth + 1);
        continue;
      }
      let st: Stats;
      try {
        if (entry.isSymbolicLink()) {
          const real = await fsp.realpath(abs);
          if (!isStrictlyInside(realBase, real)) continue;
          st = await fsp.stat(real);
        } else if (entry.isFile()) {
          st = await fsp.stat(abs);
        } else {
          continue; // sockets, FIFOs, devices
        }
      } catch {
        continue; // dangling link, vanished file
      }
      if (!st.isFile()) continue;
      const created = st.birthtimeMs > 0 ? st.birthtime : st.mtime;
      files.push({
        file_name: rel,
        file_type: fileType(rel),
        file_size: st.size,
        file_size_human: humanSize(st.size),
        created_at: localIso(created),
        is_primary: isPrimaryName(name),
        description: describeFile(rel, lang),
        download_url: downloadUrl(downloadUrlPrefix, rel),
      });
    }
  };
  await walk(realBase, '', 0);

  files.sort((a, b) => {
    if (a.is_primary !== b.is_primary) return a.is_primary ? -1 : 1;
    return a.file_name < b.file_name ? -1 : a.file_name > b.file_name ? 1 : 0;
  });
  const totalSize = files.reduce((sum, f) => sum + f.file_size, 0);
  return { files, total_files: files.length, total_size: totalSize, total_size_human: humanSize(totalSize) };
}

// ---------------------------------------------------------------------------------------------------------
// Atomic writes

export { writeFileAtomic } from '../files.ts';
