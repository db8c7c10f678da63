// db_connection at rest: sealed with AES-256-GCM under a key derived from DATA_PIPELINE_SECRET_KEY when
// one is set, so a copy of the store (a dump, a backup) does not carry business database passwords.
// Workers need the plaintext to connect, so it is a key the service holds, not a one-way hash.
import crypto from 'node:crypto';

const PREFIX = 'enc:v1:';

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

export class SecretBox {
  readonly #key: Buffer | undefined;

  constructor(secret: string | undefined) {
    this.#key = secret ? Buffer.from(crypto.hkdfSync('sha256', secret, 'data-pipeline', 'db_connection v1', 32)) : undefined;
  }

  get enabled(): boolean {
    return this.#key !== undefined;
  }

  /** `enc:v1:<iv>.<tag>.<ciphertext>` (base64url) with a key; the value unchanged without one. */
  seal(plain: string): string {
    if (!this.#key) return plain;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The plaintext; a value stored before a key was set is returned as it is. A sealed value that this key
   * cannot open (no key, another key) is returned sealed: connecting with it fails with a clear reason. */
  open(stored: string): string {
    if (!isSealed(stored) || !this.#key) return stored;
    const [iv, tag, body] = stored.slice(PREFIX.length).split('.');
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv!, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return stored;
    }
  }
}
