// The word headers of the load step's ddl/documentation documents (src/pipeline/load/documents.ts):
// relationships as arrows (declared, and same-named keys marked as guessed by name), junction tables
// naming what they join, short column prefixes read through the schema, a shared table prefix dropped.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadLexicon, type Lexicon } from '../../src/embed/lexicon.ts';
import type { TableInfo } from '../../src/pipeline/artifacts.ts';
import { ddlDocument, schemaLinks, tableHeaderLines } from '../../src/pipeline/load/documents.ts';

function table(name: string, columns: string[], primaryKey: string[], extra: Partial<TableInfo> = {}): TableInfo {
  return {
    schema: 'public',
    name,
    full_name: `public.${name}`,
    kind: 'table',
    comment: null,
    comment_source: null,
    estimated_rows: 0,
    size_bytes: null,
    columns: columns.map((c) => ({ name: c, is_primary_key: primaryKey.includes(c) }) as TableInfo['columns'][number]),
    primary_key: primaryKey,
    unique_constraints: [],
    foreign_keys: [],
    indexes: [],
    files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` },
    ...extra,
  } as TableInfo;
}

describe('load documents: word headers', () => {
  let lexicon: Lexicon;
  before(async () => {
    lexicon = await loadLexicon();
  });

  // An exported research schema: flat names, no declared keys.
  const author = table('author', ['aid', 'authorname', 'orgid'], ['aid'], { entity: { zh: '作者', en: 'author', source: 'glossary' } });
  const paper = table('paper', ['pid', 'title'], ['pid'], { entity: { zh: '论文', en: 'paper', source: 'glossary' } });
  const org = table('org', ['orgid', 'orgname'], ['orgid']);
  const writes = table('writes', ['aid', 'pid', 'authororder'], ['aid', 'pid']);
  const cite = table('cite', ['citingpid', 'citedpid'], ['citingpid', 'citedpid']);
  const keyphrase = table('keyphrase', ['kpid', 'kpname'], ['kpid']);
  const scholar = { language: 'zh' as const, tables: [author, paper, org, writes, cite, keyphrase] };

  test('same-named keys become relationships marked as guessed by name; generic ids do not', () => {
    const links = schemaLinks(scholar).map((k) => `${k.from.name}.${k.columns.join(',')}→${k.toTable}.${k.toColumns.join(',')}${k.byName ? ' (name)' : ''}`);
    assert.deepEqual(links.sort(), ['author.orgid→org.orgid (name)', 'cite.citedpid→paper.pid (name)', 'cite.citingpid→paper.pid (name)', 'writes.aid→author.aid (name)', 'writes.pid→paper.pid (name)'].sort());
    const generic = { tables: [table('a', ['id', 'b_id'], ['id']), table('b', ['id', 'name'], ['id']), table('c', ['id', 'a_id'], ['id'])] };
    assert.deepEqual(schemaLinks(generic), [], 'id is every table\'s key: it points nowhere in particular');
  });

  test('a junction table names the entities it joins in its title; columns read through the schema', () => {
    const header = tableHeaderLines(writes, scholar, lexicon);
    assert.match(header[0]!, /^表 public\.writes: .*连接 author 作者 ↔ paper 论文/);
    assert.match(header.find((h) => h.startsWith('字段词'))!, /字段词: author id; paper id; author order/);
    assert.match(header.find((h) => h.startsWith('关联'))!, /writes\.aid → author\.aid \(→ author 作者; 按名称推测\)/);
    // No 引用 / references: the word would make every table with a key look like a citation table.
    assert.ok(!header.some((h) => /引用|references/.test(h)), header.join('\n'));
    // cite.citingpid → citing paper id; kpname in keyphrase → key phrase name; aid in author → author id
    assert.match(tableHeaderLines(cite, scholar, lexicon).join('\n'), /字段词: citing paper id; cited paper id/);
    assert.match(tableHeaderLines(keyphrase, scholar, lexicon).join('\n'), /字段词: key phrase id; key phrase name/);
    assert.match(tableHeaderLines(author, scholar, lexicon).join('\n'), /字段词: author id; author name; org id/);
    // The referenced table hears of the tables pointing at it.
    assert.match(tableHeaderLines(paper, scholar, lexicon).join('\n'), /cite\.citingpid → paper\.pid \(← cite; 按名称推测\)/);
  });

  test('English task language: English labels, same arrows', () => {
    const header = tableHeaderLines(writes, { ...scholar, language: 'en' }, lexicon);
    assert.match(header[0]!, /^table public\.writes: .*joins author ↔ paper$/);
    assert.match(header.join('\n'), /writes\.aid → author\.aid \(→ author; by name\)/);
  });

  test('a first word most tables share (tbl) is left out of the name words; declared keys keep their columns', () => {
    const dept = table('tblDepartment', ['deptId', 'deptName'], ['deptId']);
    const doctor = table('tblDoctor', ['doctorId', 'deptId'], ['doctorId'], {
      foreign_keys: [{ name: 'fk', columns: ['deptId'], target_schema: 'public', target_table: 'tblDepartment', target_columns: ['deptId'], inferred: false }],
    });
    const clinic = { language: 'zh' as const, tables: [dept, doctor, table('tblWard', ['wardId'], ['wardId']), table('tblBed', ['bedId'], ['bedId'])] };
    const header = tableHeaderLines(doctor, clinic, lexicon);
    assert.ok(header.includes('名称词: doctor'), header.join('\n'));
    assert.match(header.join('\n'), /tblDoctor\.deptId → tblDepartment\.deptId \(→ department\)/);
    assert.ok(!/按名称推测/.test(header.join('\n')), 'a declared key is not a guess');
    // Three tables are too few to call a prefix shared.
    assert.ok(tableHeaderLines(doctor, { ...clinic, tables: clinic.tables.slice(0, 3) }, lexicon).includes('名称词: tbl doctor'));
  });

  test('the ddl document stays valid DDL: the header lines are SQL comments', () => {
    const doc = ddlDocument('CREATE TABLE public.writes (aid integer, pid integer);', tableHeaderLines(writes, scholar, lexicon));
    for (const l of doc.split('\n').slice(0, -1)) assert.match(l, /^-- /);
    assert.ok(doc.endsWith('CREATE TABLE public.writes (aid integer, pid integer);'));
  });
});
