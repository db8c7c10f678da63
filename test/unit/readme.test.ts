// The README is part of the product: every setting the code reads is documented there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { SETTINGS_DOC } from '../../src/config.ts';

const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every setting', () => {
    for (const { env } of SETTINGS_DOC) {
      for (const name of env.split(' / ')) assert.ok(readme.includes(`\`${name}\``), `${name} is in the README's settings table`);
    }
  });

  it('names the two commands: run and test', () => {
    assert.match(readme, /npm ci && npm run demo/);
    assert.match(readme, /npm test/);
  });
});
