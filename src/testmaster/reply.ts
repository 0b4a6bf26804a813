import type { RespValue } from '../capture/resp';

/** RESP2 reply bytes, as a Dragonfly master writes them (recorded replies are written back this way). */
export function encodeReply(value: RespValue): Buffer {
  switch (value.kind) {
    case 'simple':
      return Buffer.from(`+${value.text}\r\n`, 'utf8');
    case 'error':
      return Buffer.from(`-${value.text}\r\n`, 'utf8');
    case 'integer':
      return Buffer.from(`:${value.value}\r\n`, 'latin1');
    case 'bulk':
      return value.value === null
        ? Buffer.from('$-1\r\n')
        : Buffer.concat([Buffer.from(`$${value.value.length}\r\n`), value.value, Buffer.from('\r\n')]);
    case 'array':
      return value.items === null
        ? Buffer.from('*-1\r\n')
        : Buffer.concat([Buffer.from(`*${value.items.length}\r\n`), ...value.items.map(encodeReply)]);
  }
}

export const simpleReply = (text: string): Buffer => Buffer.from(`+${text}\r\n`, 'utf8');

/** An error reply; CR/LF in the message would break the framing, so they become spaces. */
export const errorReply = (text: string): Buffer =>
  Buffer.from(`-${text.replace(/[\r\n]+/g, ' ')}\r\n`, 'utf8');
