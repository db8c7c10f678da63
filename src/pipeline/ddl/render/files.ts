// File names of a table's outputs (guide naming: <table>.ddl, <table>_detail.md) and filename_mapping.txt.
//
// The rule: the base name is `<table>` for schema public and `<schema>__<table>` otherwise, when every part
// consists only of lower-case letters (any script, e.g. Chinese), digits and single underscores — the
// common case, and exactly the guide's names. Any other name (upper case, spaces, quotes, dots, `__`
// inside a part, symbols) is made safe — every other character becomes `_` — and gets the suffix
// `-<first 8 hex digits of sha1(schema.table)>`. Plain names never contain `-`, so the two forms cannot
// collide; the hash keeps names that differ only in case or punctuation apart (also on case-insensitive
// file systems), and the same table always gets the same name, so a re-run replaces its files.
import { createHash } from 'node:crypto';
import type { Lang } from '../../../messages.ts';
import type { TableInfo } from '../../artifacts.ts';

const PLAIN_PART = /^[\p{Ll}\p{Lo}\p{Nd}](?:[\p{Ll}\p{Lo}\p{Nd}]|_(?!_))*$/u;
const MAX_BASE_BYTES = 180;

function isPlain(part: string): boolean {
  return PLAIN_PART.test(part) && !part.endsWith('_') && part.normalize('NFC') === part;
}

function safe(part: string): string {
  return part.normalize('NFC').replace(/[^\p{L}\p{N}_]/gu, '_');
}

function clipBytes(text: string, max: number): string {
  let out = text;
  while (Buffer.byteLength(out, 'utf8') > max) out = [...out].slice(0, -1).join('');
  return out;
}

/** The base file name of a table (see the rule above). */
export function fileBase(schema: string, name: string): string {
  const plain = isPlain(name) && (schema === 'public' || isPlain(schema));
  if (plain) return schema === 'public' ? name : `${schema}__${name}`;
  const hash = createHash('sha1').update(`${schema}.${name}`).digest('hex').slice(0, 8);
  const base = schema === 'public' ? safe(name) : `${safe(schema)}__${safe(name)}`;
  return `${clipBytes(base, MAX_BASE_BYTES)}-${hash}`;
}

export function tableFiles(schema: string, name: string): { ddl: string; detail: string } {
  const base = fileBase(schema, name);
  return { ddl: `${base}.ddl`, detail: `${base}_detail.md` };
}

/** filename_mapping.txt: one line per table, dependencies first. */
export function renderMapping(tables: TableInfo[], language: Lang, generatedAt: string): string {
  const zh = language === 'zh';
  const head = zh
    ? [
        '# 文件名映射 (ddl_generation)',
        `# 生成时间: ${generatedAt}`,
        '# 格式: 原始表名 -> DDL文件, 详细文档文件',
        '# 顺序: 依赖在前；按此顺序执行全部 .ddl 文件即可在空数据库中重建这些表',
        '# 命名规则: public 模式为 <表名>，其他模式为 <模式>__<表名>；含大写、空格、符号等的名称替换为 _ 并追加 -<sha1前8位>',
      ]
    : [
        '# File name mapping (ddl_generation)',
        `# Generated at: ${generatedAt}`,
        '# Format: table -> ddl file, detail file',
        '# Order: dependencies first; executing every .ddl file in this order recreates the tables in an empty database',
        '# Naming: <table> for schema public, <schema>__<table> otherwise; names with upper case, spaces or symbols get _ and a -<sha1 prefix> suffix',
      ];
  return `${[...head, '', ...tables.map((t) => `${t.full_name} -> ${t.files.ddl}, ${t.files.detail}`)].join('\n')}\n`;
}

/** Parses filename_mapping.txt back: [{ table, ddl, detail }] in order. */
export function parseMapping(text: string): Array<{ table: string; ddl: string; detail: string }> {
  const out: Array<{ table: string; ddl: string; detail: string }> = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    const arrow = line.lastIndexOf(' -> ');
    if (arrow < 0) continue;
    const [ddl, detail] = line.slice(arrow + 4).split(', ');
    if (ddl && detail) out.push({ table: line.slice(0, arrow), ddl: ddl.trim(), detail: detail.trim() });
  }
  return out;
}
