import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { singularNoun } from '../../src/text/singular.ts';

describe('singularNoun', () => {
  it('turns the plurals table names use into their singular', () => {
    const cases: Record<string, string> = {
      warehouses: 'warehouse', houses: 'house', courses: 'course', purchases: 'purchase',
      statuses: 'status', buses: 'bus', campuses: 'campus',
      addresses: 'address', classes: 'class', boxes: 'box', matches: 'match', dishes: 'dish',
      categories: 'category', orders: 'order', levels: 'level', caches: 'cache',
    };
    for (const [plural, singular] of Object.entries(cases)) assert.equal(singularNoun(plural), singular, plural);
  });

  it('leaves words that only look plural, and short words, as they are', () => {
    for (const word of ['status', 'bus', 'analysis', 'class', 'news', 'series', 'species', 'gas', 'is', 'ids']) assert.equal(singularNoun(word), word, word);
  });

  it('singularises the last word of a phrase or an identifier, keeping the rest and the case', () => {
    assert.equal(singularNoun('order statuses'), 'order status');
    assert.equal(singularNoun('order_items'), 'order_item');
    assert.equal(singularNoun('Warehouses'), 'Warehouse');
    assert.equal(singularNoun(''), '');
  });
});
