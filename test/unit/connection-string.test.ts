// Connection strings are read with pg's own parser: what is masked is what pg would send as the password.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskConnectionString, maskQuerySecrets, maskSecretsInText, parseDatabaseUrl } from '../../src/postgres/connection-string.ts';
import { SecretBox } from '../../src/tasks/secret-box.ts';

describe('connection strings', () => {
  it('masks the password pg would use, whatever characters it holds', () => {
    assert.equal(maskConnectionString('postgresql://postgres:Pw@X123@127.0.0.1:5432/db'), 'postgresql://postgres:***@127.0.0.1:5432/db');
    assert.equal(maskConnectionString('postgres://u:p%40ss@h/db?password=x&sslmode=require'), 'postgres://u:***@h/db?password=***&sslmode=require');
  });

  it('masks the whole credential part of a URL pg cannot split safely', () => {
    for (const url of ['postgresql://postgres:Pw/X123@127.0.0.1:5432/db', 'postgresql://postgres:Pw#X123@h/db', 'postgresql://u:1?w@host/db', 'postgresql://u:1#X@h/db']) {
      const masked = maskConnectionString(url);
      assert.ok(!/X123|1\?w|1#X/.test(masked), `${url} → ${masked}`);
      assert.match(masked, /^postgresql:\/\/\*\*\*@/);
    }
    assert.equal(maskSecretsInText('failed: postgresql://a:Pw/1@h/db.'), 'failed: postgresql://***@h/db.');
  });

  it('refuses at the edge what cannot be connected to safely, naming why without the credentials', () => {
    const refused: Array<[string, RegExp]> = [
      ['postgresql://u:Pw/X1@h:5432/db', /percent-encode/],
      ['postgresql://u@h:99999/db', /not a valid/],
      ['postgresql://u@h:0/db', /port/],
      ['postgresql://u@h/db?sslmode=bogus', /sslmode/],
      ['postgresql://u@h/db?sslrootcert=/dev/zero', /sslrootcert/],
      ['postgresql://u@h/db?options=-c%20a%3Db', /options/],
      ['postgresql://u@h/db?host=/tmp', /host/],
      ['postgresql://%2Ftmp/db', /Unix socket/],
      ['postgresql://u@h', /database/],
    ];
    for (const [url, reason] of refused) {
      assert.throws(() => parseDatabaseUrl(url), (e: Error) => reason.test(e.message) && !e.message.includes('X1'), url);
    }
    assert.equal(parseDatabaseUrl('postgresql://u:p%2Fw@h:5432/db?sslmode=verify-full&application_name=x').port, 5432);
  });

  it('masks secret-looking query parameters of a request line', () => {
    assert.equal(maskQuerySecrets('GET /api/v0/x?api_key=K1&limit=2&access_token=T&%61pi_k%65y=Z'), 'GET /api/v0/x?api_key=***&limit=2&access_token=***&%61pi_k%65y=***');
  });

  it('seals db_connection with the key and opens it again; another key cannot', () => {
    const box = new SecretBox('a key of at least sixteen characters');
    const sealed = box.seal('postgresql://u:secret@h/db');
    assert.match(sealed, /^enc:v1:/);
    assert.ok(!sealed.includes('secret'));
    assert.equal(box.open(sealed), 'postgresql://u:secret@h/db');
    assert.equal(new SecretBox('another key of sixteen characters').open(sealed), sealed);
    assert.equal(maskConnectionString(sealed), 'enc:***');
    assert.equal(new SecretBox(undefined).seal('plain'), 'plain');
  });
});
