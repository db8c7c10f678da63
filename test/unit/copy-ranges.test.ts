import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextSpan } from '../../src/postgres/copy.ts';

describe('nextSpan (PGlite COPY ranges)', () => {
  it('sizes the next range from the density of the last one, for blobs of about 64 KB', () => {
    assert.equal(nextSpan(4, 4 * 13_000), 5);
    assert.equal(nextSpan(5, 5 * 13_000), 5);
    assert.equal(nextSpan(8, 8 * 300_000), 1, 'wide TOASTed rows: one page at a time');
  });

  it('grows at most 2× per range and never past 64 pages, even over empty or dead pages', () => {
    assert.equal(nextSpan(4, 0), 8);
    assert.equal(nextSpan(4, 100), 8);
    let span = 4;
    for (let i = 0; i < 20; i += 1) span = nextSpan(span, 0);
    assert.equal(span, 64);
    // Dense rows right after a dead stretch: the next range shrinks at once.
    assert.equal(nextSpan(64, 64 * 200_000), 1);
  });
});
