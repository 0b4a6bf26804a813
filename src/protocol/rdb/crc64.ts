/**
 * CRC-64/Jones as Redis uses it for DUMP/RESTORE payloads: reflected, polynomial 0xad93d23594c935a9
 * (0x95ac9329ac4bc9b5 reflected), initial value 0, no final xor. Check value of "123456789":
 * 0xe9c6d914c4b8d9ca. Computed on two 32-bit halves to stay out of BigInt in the byte loop.
 */

const POLY_LO = 0xac4bc9b5;
const POLY_HI = 0x95ac9329;

const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);

for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_LO[n] = lo;
  TABLE_HI[n] = hi;
}

export function crc64Jones(data: Uint8Array): bigint {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
