import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import {
  MAX_TABLES,
  TableListError,
  decodeTableListFile,
  formatTableList,
  parseAndValidateTableList,
  parseTableList,
  tableNameKey,
  validateTableName,
  validateTableNames,
} from '../../src/tasks/table-list.ts';

function expectInvalid(name: string, reason?: string): void {
  assert.throws(
    () => validateTableName(name),
    (err: unknown) => {
      assert.ok(err instanceof TableListError, 'TableListError expected');
      assert.equal(err.code, 'INVALID_TABLE_NAME');
      assert.equal(err.tableName, name);
      assert.equal(err.invalidNames.length, 1);
      assert.equal(err.invalidNames[0].name, name);
      if (reason) assert.equal(err.invalidNames[0].reason, reason);
      assert.ok(err.message.includes(JSON.stringify(name)));
      assert.ok(err.messageEn.startsWith('Invalid table name'));
      return true;
    },
    `expected ${JSON.stringify(name)} to be invalid`,
  );
}

describe('decodeTableListFile', () => {
  it('decodes plain UTF-8', () => {
    assert.equal(decodeTableListFile(Buffer.from('bss_company\n销售.订单\n', 'utf8')), 'bss_company\n销售.订单\n');
  });

  it('strips a UTF-8 BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb', 'utf8')]);
    const text = decodeTableListFile(bytes);
    assert.equal(text, 'a\nb');
    assert.deepEqual(parseTableList(text), ['a', 'b']);
  });

  it('decodes GBK bytes (not valid UTF-8)', () => {
    const original = '# 表清单\n"销售"."订单"，bss_company\n"客户表"\n';
    const gbk = iconv.encode(original, 'gbk');
    assert.notDeepEqual(gbk, Buffer.from(original, 'utf8'));
    assert.equal(decodeTableListFile(gbk), original);
    assert.deepEqual(parseAndValidateTableList(decodeTableListFile(gbk)).tables, [
      '"销售"."订单"',
      'bss_company',
      '"客户表"',
    ]);
  });

  it('decodes UTF-16 LE and BE with a BOM', () => {
    const text = 'a,"表一"\nb';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf-16be')]);
    assert.equal(decodeTableListFile(le), text);
    assert.equal(decodeTableListFile(be), text);
  });

  it('accepts a Uint8Array and an empty buffer', () => {
    assert.equal(decodeTableListFile(new Uint8Array(Buffer.from('x'))), 'x');
    assert.equal(decodeTableListFile(Buffer.alloc(0)), '');
  });
});

describe('parseTableList', () => {
  it('reads one name per line, trimming and ignoring blank lines (LF and CRLF)', () => {
    assert.deepEqual(parseTableList('  a  \r\n\r\n\tb\n\n   \nc\r\n'), ['a', 'b', 'c']);
  });

  it('reads comma-separated names, also the Chinese comma, mixed with newlines', () => {
    assert.deepEqual(parseTableList('a, b ,c\nd，e，  f\n,,g,'), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('skips # and -- comments, whole-line and trailing', () => {
    const text = [
      '# the list',
      '-- another comment',
      'a # trailing',
      'b -- trailing, with comma',
      'c,d # e',
      '   # indented comment',
      'public.f--g',
    ].join('\n');
    assert.deepEqual(parseTableList(text), ['a', 'b', 'c', 'd', 'public.f']);
  });

  it('keeps #, --, commas, dots and Chinese commas inside double-quoted identifiers', () => {
    const text = '"a#b", "c--d" -- comment\n"x,y"."p，q", "with ""quote"" # inside"\n"My Table"';
    const names = parseTableList(text);
    assert.deepEqual(names, ['"a#b"', '"c--d"', '"x,y"."p，q"', '"with ""quote"" # inside"', '"My Table"']);
    assert.deepEqual(validateTableName(names[2]), { schema: 'x,y', table: 'p，q' });
    assert.deepEqual(validateTableName(names[3]), { table: 'with "quote" # inside' });
    assert.deepEqual(validateTableName('"a.b"'), { table: 'a.b' });
  });

  it('drops duplicates keeping the first occurrence and the order, comparing like PostgreSQL', () => {
    const text = 'Orders\norders\nORDERS\n"orders"\n"Orders"\npublic.Orders\nPUBLIC."orders"\nb\nOrders';
    assert.deepEqual(parseTableList(text), ['Orders', '"Orders"', 'public.Orders', 'b']);
  });

  it('treats quoted case as significant and schema-qualified names as distinct', () => {
    assert.deepEqual(parseTableList('"A",a,"a",s.a,S.A,"s"."A"'), ['"A"', 'a', 's.a', '"s"."A"']);
  });

  it('compares names with spaces around the dot as the same table', () => {
    assert.deepEqual(parseTableList('public.t\npublic . t'), ['public.t']);
  });

  it('de-duplicates invalid names by their text', () => {
    assert.deepEqual(parseTableList('1bad\n1bad\n1BAD'), ['1bad', '1BAD']);
  });

  it('ends an unterminated quote at the end of its line', () => {
    const names = parseTableList('"abc, def\nnext');
    assert.deepEqual(names, ['"abc, def', 'next']);
    assert.throws(() => parseAndValidateTableList('"abc, def\nnext'), (e: unknown) => {
      assert.ok(e instanceof TableListError);
      assert.equal(e.code, 'INVALID_TABLE_NAME');
      assert.deepEqual(e.invalidNames.map((x) => [x.name, x.reason]), [['"abc, def', 'UNTERMINATED_QUOTE']]);
      return true;
    });
  });

  it('returns an empty list for comments only', () => {
    assert.deepEqual(parseTableList('# only\n-- comments\n\n'), []);
    assert.deepEqual(parseTableList(''), []);
  });

  it('returns the names as written', () => {
    assert.deepEqual(parseTableList('  Public."Order"  '), ['Public."Order"']);
  });
});

describe('validateTableName', () => {
  it('parses simple and schema-qualified names, folding unquoted parts to lower case', () => {
    assert.deepEqual(validateTableName('bss_company'), { table: 'bss_company' });
    assert.deepEqual(validateTableName('BSS_Company'), { table: 'bss_company' });
    assert.deepEqual(validateTableName('Public.Orders'), { schema: 'public', table: 'orders' });
    assert.deepEqual(validateTableName('  t$1  '), { table: 't$1' });
    assert.deepEqual(validateTableName('_x'), { table: '_x' });
  });

  it('keeps quoted parts as written and unescapes ""', () => {
    assert.deepEqual(validateTableName('"My Table"'), { table: 'My Table' });
    assert.deepEqual(validateTableName('public."Order"'), { schema: 'public', table: 'Order' });
    assert.deepEqual(validateTableName('"销售"."订单"'), { schema: '销售', table: '订单' });
    assert.deepEqual(validateTableName('"a""b"'), { table: 'a"b' });
    assert.deepEqual(validateTableName('"1st"'), { table: '1st' });
    assert.deepEqual(validateTableName('"a-b c"'), { table: 'a-b c' });
  });

  it('accepts Unicode letters in unquoted names (not folded beyond ASCII)', () => {
    assert.deepEqual(validateTableName('销售.订单'), { schema: '销售', table: '订单' });
    assert.deepEqual(validateTableName('客户_2024'), { table: '客户_2024' });
    assert.deepEqual(validateTableName('Straße'), { table: 'straße' });
  });

  it('allows spaces around the dot', () => {
    assert.deepEqual(validateTableName('public . t'), { schema: 'public', table: 't' });
  });

  it('accepts exactly 63 bytes per part', () => {
    assert.deepEqual(validateTableName('a'.repeat(63)), { table: 'a'.repeat(63) });
    assert.deepEqual(validateTableName(`s.${'b'.repeat(63)}`), { schema: 's', table: 'b'.repeat(63) });
    // 21 Chinese characters = 63 bytes in UTF-8
    assert.deepEqual(validateTableName('表'.repeat(21)), { table: '表'.repeat(21) });
  });

  it('rejects empty names and empty parts', () => {
    expectInvalid('', 'EMPTY');
    expectInvalid('   ', 'EMPTY');
    expectInvalid('.t', 'EMPTY_PART');
    expectInvalid('s.', 'EMPTY_PART');
    expectInvalid('s..t', 'EMPTY_PART');
    expectInvalid('""', 'EMPTY_PART');
    expectInvalid('s.""', 'EMPTY_PART');
  });

  it('rejects more than two parts', () => {
    expectInvalid('db.public.t', 'TOO_MANY_PARTS');
    expectInvalid('"a"."b"."c"', 'TOO_MANY_PARTS');
  });

  it('rejects unterminated quotes', () => {
    expectInvalid('"abc', 'UNTERMINATED_QUOTE');
    expectInvalid('public."abc', 'UNTERMINATED_QUOTE');
    expectInvalid('"abc""', 'UNTERMINATED_QUOTE');
  });

  it('rejects unquoted parts with invalid characters', () => {
    expectInvalid('my table', 'INVALID_CHARACTER');
    expectInvalid('a-b', 'INVALID_CHARACTER');
    expectInvalid('a;drop', 'INVALID_CHARACTER');
    expectInvalid('a*', 'INVALID_CHARACTER');
    expectInvalid("a'b", 'INVALID_CHARACTER');
    expectInvalid('a"b"', 'INVALID_CHARACTER');
    expectInvalid('"a"b', 'INVALID_CHARACTER');
    expectInvalid('"a" "b"', 'INVALID_CHARACTER');
    expectInvalid('订单（新）', 'INVALID_CHARACTER');
  });

  it('rejects unquoted parts starting with a digit or $', () => {
    expectInvalid('1abc', 'STARTS_WITH_DIGIT');
    expectInvalid('public.2t', 'STARTS_WITH_DIGIT');
    expectInvalid('$x', 'STARTS_WITH_DIGIT');
  });

  it('rejects parts longer than 63 bytes', () => {
    expectInvalid('a'.repeat(64), 'TOO_LONG');
    expectInvalid(`s.${'b'.repeat(64)}`, 'TOO_LONG');
    expectInvalid(`"${'q'.repeat(64)}"`, 'TOO_LONG');
    expectInvalid('表'.repeat(22), 'TOO_LONG'); // 66 bytes
  });

  it('rejects control characters, also inside quotes', () => {
    expectInvalid('a\u0000b', 'CONTROL_CHARACTER');
    expectInvalid('"a\tb"', 'CONTROL_CHARACTER');
    expectInvalid('a\u007f', 'CONTROL_CHARACTER');
    expectInvalid('"x\u0085"', 'CONTROL_CHARACTER');
  });

  it('tableNameKey normalises like PostgreSQL', () => {
    assert.equal(tableNameKey('Orders'), tableNameKey('"orders"'));
    assert.notEqual(tableNameKey('Orders'), tableNameKey('"Orders"'));
    assert.notEqual(tableNameKey('t'), tableNameKey('public.t'));
  });
});

describe('parseAndValidateTableList / validateTableNames', () => {
  it('returns the de-duplicated names as written', () => {
    const text = '\ufeff# tables\nbss_business_day_data, bss_car_day_count\nBSS_COMPANY\nbss_company -- dup\n"销售"."订单"';
    assert.deepEqual(parseAndValidateTableList(text), {
      tables: ['bss_business_day_data', 'bss_car_day_count', 'BSS_COMPANY', '"销售"."订单"'],
    });
  });

  it('lists all invalid names in one error', () => {
    assert.throws(
      () => parseAndValidateTableList('good\n1bad\na.b.c\n"open\nalso good\nx-y'),
      (err: unknown) => {
        assert.ok(err instanceof TableListError);
        assert.equal(err.code, 'INVALID_TABLE_NAME');
        assert.deepEqual(
          err.invalidNames.map((x) => [x.name, x.reason]),
          [
            ['1bad', 'STARTS_WITH_DIGIT'],
            ['a.b.c', 'TOO_MANY_PARTS'],
            ['"open', 'UNTERMINATED_QUOTE'],
            ['also good', 'INVALID_CHARACTER'],
            ['x-y', 'INVALID_CHARACTER'],
          ],
        );
        assert.equal(err.tableName, undefined);
        for (const n of ['1bad', 'a.b.c', 'x-y']) assert.ok(err.message.includes(n), n);
        assert.ok(err.messageEn.includes('5 invalid'));
        return true;
      },
    );
  });

  it('sets tableName when exactly one name is invalid', () => {
    assert.throws(
      () => parseAndValidateTableList('ok\n9x'),
      (err: unknown) => err instanceof TableListError && err.code === 'INVALID_TABLE_NAME' && err.tableName === '9x',
    );
  });

  it('throws EMPTY_TABLE_LIST when no table remains', () => {
    for (const text of ['', '\n\n', '# nothing\n-- here', ' , ，, ']) {
      assert.throws(
        () => parseAndValidateTableList(text),
        (err: unknown) => err instanceof TableListError && err.code === 'EMPTY_TABLE_LIST',
        JSON.stringify(text),
      );
    }
    assert.throws(
      () => validateTableNames([' ', '']),
      (err: unknown) => err instanceof TableListError && err.code === 'EMPTY_TABLE_LIST',
    );
  });

  it('caps the list at 10,000 distinct names (TOO_MANY_TABLES)', () => {
    assert.equal(MAX_TABLES, 10_000);
    const ok = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
    assert.equal(parseAndValidateTableList(ok.join('\n')).tables.length, 10_000);
    // duplicates do not count against the cap
    assert.equal(parseAndValidateTableList([...ok, 'T0', 't1'].join(',')).tables.length, 10_000);
    assert.throws(
      () => parseAndValidateTableList([...ok, 'extra'].join('\n')),
      (err: unknown) => {
        assert.ok(err instanceof TableListError);
        assert.equal(err.code, 'TOO_MANY_TABLES');
        assert.equal(err.limit, 10_000);
        assert.equal(err.count, 10_001);
        return true;
      },
    );
    assert.throws(
      () => parseAndValidateTableList('a,b,c', { maxTables: 2 }),
      (err: unknown) => err instanceof TableListError && err.code === 'TOO_MANY_TABLES',
    );
  });

  it('validateTableNames trims and de-duplicates an array', () => {
    assert.deepEqual(validateTableNames([' a ', 'A', 'public.b', 'PUBLIC.B', '"C"']), {
      tables: ['a', 'public.b', '"C"'],
    });
  });

  it('formatTableList writes one name per line', () => {
    assert.equal(formatTableList(['a', '"B"']), 'a\n"B"\n');
    assert.equal(formatTableList([]), '');
    const roundTrip = parseAndValidateTableList(formatTableList(['a', '"x,y"."#z"'])).tables;
    assert.deepEqual(roundTrip, ['a', '"x,y"."#z"']);
  });
});
