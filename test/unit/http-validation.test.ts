import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifySchemaValidationError } from 'fastify';
import { validationError } from '../../src/http/validation.ts';

const unknownKey = (key: string): FastifySchemaValidationError =>
  ({ keyword: 'unrecognized_keys', instancePath: '', schemaPath: '#', params: { keys: [key] }, message: 'unrecognized key' }) as FastifySchemaValidationError;

describe('validationError', () => {
  it("a parameter named like one of Object's own members gets the plain 400, not Object's member as a code", () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const error = validationError([unknownKey(key)], 'body', { execution_mode: 'INVALID_EXECUTION_MODE' });
      assert.equal(error.code, 'VALIDATION_ERROR', key);
      assert.equal(error.status, 400, key);
      assert.deepEqual(error.invalidParams, [key]);
    }
  });

  it("a route's own code for a parameter is used", () => {
    const error = validationError([unknownKey('execution_mode')], 'body', { execution_mode: 'INVALID_EXECUTION_MODE' });
    assert.equal(error.code, 'INVALID_EXECUTION_MODE');
    assert.equal(error.status, 400);
  });
});
