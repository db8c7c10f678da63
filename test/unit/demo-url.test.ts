import assert from 'node:assert/strict';
import { it } from 'node:test';
import { browsableUrl } from '../../src/cli/demo.ts';

it('browsableUrl: loopback and wildcard binds are localhost, IPv6 is bracketed', () => {
  assert.equal(browsableUrl('127.0.0.1', 8084), 'http://localhost:8084');
  assert.equal(browsableUrl('0.0.0.0', 8084), 'http://localhost:8084');
  assert.equal(browsableUrl('::', 9000), 'http://localhost:9000');
  assert.equal(browsableUrl('::1', 9000), 'http://localhost:9000');
  assert.equal(browsableUrl('10.0.0.5', 8084), 'http://10.0.0.5:8084');
  assert.equal(browsableUrl('fd00::5', 8084), 'http://[fd00::5]:8084');
});
