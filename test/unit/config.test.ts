// The settings schema: defaults, validation naming the variable, and no secret in its messages.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config.ts';

describe('settings', () => {
  it('has working defaults and resolves relative paths against the working directory', () => {
    const s = loadSettings({}, '/srv/app');
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.port, 8084);
    assert.equal(s.storeUrl, 'pglite://./data/store');
    assert.equal(s.outputDir, path.resolve('/srv/app', 'data_pipeline/training_data'));
    assert.equal(s.llm, undefined, 'no LLM: offline');
    assert.equal(s.embedding.kind, 'hashing');
  });

  it('honours FLASK_LOG_LEVEL as the API log level and API_LOG_LEVEL first', () => {
    assert.equal(loadSettings({ FLASK_LOG_LEVEL: 'debug' }).apiLogLevel, 'DEBUG');
    assert.equal(loadSettings({ FLASK_LOG_LEVEL: 'debug', API_LOG_LEVEL: 'warn' }).apiLogLevel, 'WARNING');
  });

  it('refuses bad values, naming each variable, without echoing secrets', () => {
    assert.throws(
      () =>
        loadSettings({
          DATA_PIPELINE_PORT: 'eighty',
          DATA_PIPELINE_STORE_URL: 'mysql://admin:hunter2@db/x',
          DATA_PIPELINE_LLM_BASE_URL: 'http://llm/v1',
          DATA_PIPELINE_LLM_API_KEY: 'sk-verysecret',
          DATA_PIPELINE_EMBEDDING_DIM: '0',
        }),
      (error: unknown) => {
        assert.ok(error instanceof SettingsError);
        for (const name of ['DATA_PIPELINE_PORT', 'DATA_PIPELINE_STORE_URL', 'DATA_PIPELINE_EMBEDDING_DIM']) {
          assert.match(error.message, new RegExp(name));
        }
        assert.doesNotMatch(error.message, /hunter2|sk-verysecret/);
        return true;
      },
    );
    assert.throws(() => loadSettings({ DATA_PIPELINE_LLM_BASE_URL: 'http://llm/v1', DATA_PIPELINE_LLM_API_KEY: 'sk-verysecret' }), (error: unknown) => {
      assert.match(String(error), /DATA_PIPELINE_LLM_MODEL/);
      assert.doesNotMatch(String(error), /sk-verysecret/);
      return true;
    });
  });
});
