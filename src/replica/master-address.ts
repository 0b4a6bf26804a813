/**
 * Where the master is and how to log in, parsed from a `redis://` / `rediss://` URL
 * (`rediss` = TLS). User and password may be in the URL or given separately (separate values win).
 */
export interface MasterAddress {
  host: string;
  port: number;
  tls: boolean;
  user: string | null;
  password: string | null;
}

export class MasterUrlError extends Error {
  constructor(url: string, reason: string) {
    super(
      `invalid Dragonfly URL "${redactUrl(url)}": ${reason} (expected redis://[user:password@]host:port or rediss://...)`,
    );
    this.name = 'MasterUrlError';
  }
}

export function parseMasterUrl(
  url: string,
  overrides: { user?: string | null; password?: string | null } = {},
): MasterAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MasterUrlError(url, 'not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new MasterUrlError(url, `unsupported scheme "${parsed.protocol}"`);
  }
  if (!parsed.hostname) throw new MasterUrlError(url, 'no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new MasterUrlError(url, 'bad port');
  const urlUser = parsed.username ? decodeURIComponent(parsed.username) : null;
  const urlPassword = parsed.password ? decodeURIComponent(parsed.password) : null;
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    tls: parsed.protocol === 'rediss:',
    user: overrides.user || urlUser,
    password: overrides.password || urlPassword,
  };
}

/** host:port for messages (never the password). */
export function describeMaster(address: MasterAddress): string {
  return `${address.tls ? 'rediss' : 'redis'}://${address.host}:${address.port}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
