// Connection strings carry passwords: everything that leaves the process goes through maskConnectionString.
// A postgresql:// URL is read with pg's own parser (pg-connection-string, what pg.Pool uses to connect), so
// what is masked is exactly what would be sent as the password: a raw `@ / # ?` cannot shift the split.
import { parse as parsePgUrl } from 'pg-connection-string';

export type DatabaseUrlKind = 'postgres' | 'pglite';

export function databaseUrlKind(url: string): DatabaseUrlKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^pglite:\/\/.+/i.test(url)) return 'pglite';
  return undefined;
}

/** Query parameters a client-supplied postgresql:// URL may carry. Everything else is refused: some name
 * files on the server (sslcert, sslkey, sslrootcert, sslcrl), `options` sets server settings, `host`/`port`
 * would override the authority (a Unix socket path is a server file too). */
export const ACCEPTED_URL_PARAMETERS = ['sslmode', 'ssl', 'user', 'password', 'application_name', 'connect_timeout'] as const;
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
const FILE_PARAMETERS = new Set(['sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslcrldir', 'passfile', 'service', 'servicefile']);
const SECRET_PARAMETER = /pass|pwd|secret|token|key|auth|credential|signature/i;

export interface ParsedDatabaseUrl {
  user: string | undefined;
  hasPassword: boolean;
  host: string;
  port: number | undefined;
  database: string;
  /** Query parameters, in order (passwords included: never show them). */
  parameters: Array<[string, string]>;
  /** `postgresql://user:***@host:5432/db?sslmode=require` */
  masked: string;
}

/** Why a connection string is refused, in both languages; never quotes the credential part. */
export class ConnectionStringError extends Error {
  constructor(
    readonly reasonZh: string,
    readonly reasonEn: string,
  ) {
    super(reasonEn);
    this.name = 'ConnectionStringError';
  }
}

/** The WHATWG URL pg-connection-string builds (same pre-encoding, same fallback for an empty host). */
function pgUrl(url: string): URL | undefined {
  let str = url;
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(str)) str = encodeURI(str).replace(/%25(\d\d)/g, '%$1');
  try {
    return new URL(str, 'postgres://base');
  } catch {
    try {
      new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base');
      return undefined; // an empty host: refused below all the same
    } catch {
      return undefined;
    }
  }
}

/**
 * Parses and fully validates a client-supplied postgresql:// URL: it must parse, name a host (not a socket
 * path), a port in 1..65535 when given, a database, an sslmode pg knows, and only ACCEPTED_URL_PARAMETERS.
 * Nothing here reads a file: the parameters that would make pg read one are refused before pg's parser runs.
 */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  if (databaseUrlKind(url) !== 'postgres') {
    throw new ConnectionStringError('必须以 postgresql:// 或 postgres:// 开头', 'must start with postgresql:// or postgres://');
  }
  const parsed = pgUrl(url);
  if (!parsed || !parsed.hostname) {
    throw new ConnectionStringError(
      '不是有效的连接 URL（用户名或密码中的 @ / # ? : 等字符必须百分号编码，如 @ 写作 %40；端口必须在 1-65535 之间）',
      'not a valid connection URL (percent-encode @ / # ? : in the user name or password, e.g. @ as %40; the port must be 1-65535)',
    );
  }
  if (hasStrayAt(parsed)) {
    throw new ConnectionStringError(
      '主机名之后还有 @（密码中的 @ / ? # 必须百分号编码，如 @ 写作 %40）',
      'contains "@" after the host (percent-encode @ / ? # in the password, e.g. @ as %40)',
    );
  }
  if (parsed.hash) {
    throw new ConnectionStringError('包含 #（密码中的 # 必须写作 %23）', 'contains "#" (write a "#" in the password as %23)');
  }
  const parameters = [...parsed.searchParams.entries()];
  for (const [key, value] of parameters) {
    const shown = /^[a-z_]{1,40}$/i.test(key) ? key : undefined;
    if (FILE_PARAMETERS.has(key.toLowerCase())) {
      throw new ConnectionStringError(`不接受参数 ${key}（它会让服务器读取文件）`, `the parameter ${key} is not accepted (it makes the server read a file)`);
    }
    if (key === 'options') {
      throw new ConnectionStringError('不接受参数 options（它会修改服务器设置）', 'the parameter options is not accepted (it changes server settings)');
    }
    if (!(ACCEPTED_URL_PARAMETERS as readonly string[]).includes(key)) {
      const list = ACCEPTED_URL_PARAMETERS.join(', ');
      throw new ConnectionStringError(
        shown ? `不支持的参数 ${shown}（只接受 ${list}）` : `包含不支持的参数（只接受 ${list}；密码中的 ? 必须写作 %3F）`,
        shown ? `unsupported parameter ${shown} (accepted: ${list})` : `an unsupported parameter (accepted: ${list}; write a "?" in the password as %3F)`,
      );
    }
    if (key === 'sslmode' && !(SSL_MODES as readonly string[]).includes(value)) {
      throw new ConnectionStringError(`sslmode 必须是 ${SSL_MODES.join(', ')} 之一`, `sslmode must be one of ${SSL_MODES.join(', ')}`);
    }
    if (key === 'ssl' && !['true', 'false', '1', '0'].includes(value)) {
      throw new ConnectionStringError('ssl 必须是 true 或 false', 'ssl must be true or false');
    }
    if (key === 'connect_timeout' && !/^\d{1,4}$/.test(value)) {
      throw new ConnectionStringError('connect_timeout 必须是秒数', 'connect_timeout must be a number of seconds');
    }
  }
  // Only now, with no file parameter left, pg's own parser: what it reads is what pg.Pool will use.
  let config: ReturnType<typeof parsePgUrl>;
  try {
    config = parsePgUrl(url);
  } catch {
    throw new ConnectionStringError('不是有效的连接 URL', 'not a valid connection URL');
  }
  const host = config.host ?? '';
  if (!host || host.startsWith('/') || host === '___DUMMY___') {
    throw new ConnectionStringError('必须指定主机名（不接受 Unix 套接字路径）', 'must name a host (a Unix socket path is not accepted)');
  }
  let port: number | undefined;
  if (config.port) {
    port = Number(config.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConnectionStringError('端口必须在 1-65535 之间', 'the port must be between 1 and 65535');
    }
  }
  if (!config.database) throw new ConnectionStringError('必须指定数据库名（URL 路径）', 'must name a database (the URL path)');
  const user = config.user || undefined;
  const hasPassword = Boolean(config.password);
  const masked = renderMasked(url, parsed);
  return { user, hasPassword, host, port, database: config.database, parameters, masked };
}

/**
 * `postgresql://user:secret@host:5432/db?password=x` → `postgresql://user:***@host:5432/db?password=***`.
 * A URL pg could not parse has its whole credential part (everything before the last `@`) masked.
 */
export function maskConnectionString(url: string): string {
  if (url.startsWith('enc:')) return 'enc:***'; // sealed in the store and not opened (no key, another key)
  const kind = databaseUrlKind(url);
  if (kind === 'pglite') return url;
  const parsed = kind === 'postgres' ? pgUrl(url) : undefined;
  if (parsed?.hostname && !hasStrayAt(parsed)) return renderMasked(url, parsed);
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url)?.[1];
  if (!scheme) return url.includes('@') ? `***@${maskQuerySecrets(url.slice(url.lastIndexOf('@') + 1))}` : maskQuerySecrets(url);
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  return at < 0 ? `${scheme}${maskQuerySecrets(rest)}` : `${scheme}***@${maskQuerySecrets(rest.slice(at + 1))}`;
}

/** An `@` after the authority (`postgresql://u:1?w@host/db`): the user meant it as the end of a password
 * holding a raw `?`, `/` or `#`, so the part pg takes for the host may be a piece of that password. */
function hasStrayAt(parsed: URL): boolean {
  return (parsed.pathname + parsed.search + parsed.hash).includes('@');
}

/** The URL as pg reads it, password replaced by ***, secret-looking parameters too, no fragment (pg ignores
 * it, and a raw `#` in a password would leave part of it there). */
function renderMasked(url: string, parsed: URL): string {
  const query = [...parsed.searchParams.entries()]
    .map(([key, value]) => `${encodeURIComponent(key)}=${SECRET_PARAMETER.test(key) ? '***' : encodeURIComponent(value)}`)
    .join('&');
  const userInfo = parsed.username ? `${parsed.username}${parsed.password ? ':***' : ''}@` : parsed.password ? ':***@' : '';
  const scheme = /^postgresql:/i.test(url) ? 'postgresql' : 'postgres';
  return `${scheme}://${userInfo}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}${query ? `?${query}` : ''}`;
}

/** `?password=x&api_key=y` → `?password=***&api_key=***`: every parameter whose name looks like a secret. */
export function maskQuerySecrets(text: string): string {
  return text.replace(/([?&;]([^=&#\s]*)=)([^&#\s]*)/g, (whole, head: string, key: string) => (SECRET_PARAMETER.test(decodedKey(key)) ? `${head}***` : whole));
}

function decodedKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** Masks every connection string found inside a free text (error messages from drivers quote them). */
export function maskSecretsInText(text: string): string {
  return text.replace(/\b(postgres(?:ql)?|pglite):\/\/[^\s'"`]+/gi, (url) => maskConnectionString(url));
}

/** The database name a URL points at: the path of a postgresql:// URL, the last folder of a pglite:// one. */
export function databaseNameOf(url: string): string | undefined {
  const kind = databaseUrlKind(url);
  if (kind === 'postgres') {
    const pathname = pgUrl(url)?.pathname.slice(1);
    try {
      return pathname ? decodeURI(pathname) : undefined;
    } catch {
      return undefined;
    }
  }
  if (kind === 'pglite') {
    const dir = url.replace(/^pglite:\/\//i, '').replace(/[\\/]+$/, '');
    return dir.split(/[\\/]/).pop() || undefined;
  }
  return undefined;
}
