import { RespError, type RespValue } from '../protocol/resp';

/**
 * RESP2 reply bytes, as a Dragonfly master writes them (recorded replies are written back this way).
 * A null is written as the null bulk string `$-1`, the RESP2 null a master answers with.
 */
export function encodeReply(value: RespValue): Buffer {
  if (value === null) return Buffer.from('$-1\r\n', 'latin1');
  if (typeof value === 'string') return simpleReply(value);
  if (value instanceof RespError) return Buffer.from(`-${value.message}\r\n`, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.from(`:${value}\r\n`, 'latin1');
  if (Buffer.isBuffer(value)) {
    return Buffer.concat([
      Buffer.from(`$${value.length}\r\n`, 'latin1'),
      value,
      Buffer.from('\r\n', 'latin1'),
    ]);
  }
  return Buffer.concat([Buffer.from(`*${value.length}\r\n`, 'latin1'), ...value.map(encodeReply)]);
}

export const simpleReply = (text: string): Buffer => Buffer.from(`+${text}\r\n`, 'utf8');

/** An error reply; CR/LF in the message would break the framing, so they become spaces. */
export const errorReply = (text: string): Buffer =>
  Buffer.from(`-${text.replace(/[\r\n]+/g, ' ')}\r\n`, 'utf8');

/**
 * The INFO server reply of a Dragonfly master of release `dragonflyVersion` ("df-v1.40.1"): the
 * lines a replica reads (v1.40.1 also reports a Redis-compatible redis_version of 7.4.0).
 */
export function infoServerReply(dragonflyVersion: string): Buffer {
  const text = `# Server\r\nredis_version:7.4.0\r\ndragonfly_version:${dragonflyVersion}\r\nredis_mode:standalone\r\n`;
  return encodeReply(Buffer.from(text, 'latin1'));
}
