// Connection strings carry passwords: everything that leaves the process goes through maskConnectionString.

export type DatabaseUrlKind = 'postgres' | 'pglite';

export function databaseUrlKind(url: string): DatabaseUrlKind | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^pglite:\/\/.+/i.test(url)) return 'pglite';
  return undefined;
}

/** `postgresql://user:secret@host:5432/db?password=x` → `postgresql://user:***@host:5432/db?password=***` */
export function maskConnectionString(url: string): string {
  let masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/?#]*):([^@/?#]*)@/i, (_m, scheme, user) => `${scheme}${user}:***@`);
  masked = masked.replace(/([?&](?:password|pass|pwd|sslpassword|sslkey)=)[^&#]*/gi, '$1***');
  return masked;
}

/** Masks every connection string found inside a free text (error messages from drivers quote them). */
export function maskSecretsInText(text: string): string {
  return text.replace(/\b(postgres(?:ql)?|pglite):\/\/[^\s'"`]+/gi, (url) => maskConnectionString(url));
}

/** The database name a URL points at: the path of a postgresql:// URL, the last folder of a pglite:// one. */
export function databaseNameOf(url: string): string | undefined {
  const kind = databaseUrlKind(url);
  if (kind === 'postgres') {
    try {
      const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
      return name || undefined;
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
