import { ProtocolError } from './errors';

/** The longest LZF back-reference: 3 input bytes (control, extra length, offset) copy 7+255+2 bytes. */
const LZF_LONGEST_REF_BYTES = 3;
const LZF_LONGEST_REF_OUTPUT = 264;

/**
 * liblzf decompression (the RDB 0xC3 string encoding). `offset` is only used in error messages.
 * The output must be exactly `outLength` bytes, as the RDB header of the string says.
 */
export function lzfDecompress(input: Uint8Array, outLength: number, offset = 0): Buffer {
  let ip = 0;
  let op = 0;
  const fail = (expected: string): never => {
    throw new ProtocolError({ offset: offset + ip, item: 'LZF string', expected });
  };
  // Check the declared size against what the input can possibly expand to before allocating it.
  const maxOutput = Math.ceil(input.length / LZF_LONGEST_REF_BYTES) * LZF_LONGEST_REF_OUTPUT;
  if (outLength > maxOutput) {
    fail(`a decompressed length up to ${maxOutput} for ${input.length} compressed bytes, got ${outLength}`);
  }
  const out = Buffer.allocUnsafe(outLength);
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > input.length) fail('literal run past the end of the compressed data');
      if (op + run > outLength) fail(`no more than ${outLength} decompressed bytes`);
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= input.length) fail('a length byte');
      len += input[ip++]!;
    }
    if (ip >= input.length) fail('a back-reference byte');
    const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
    len += 2;
    if (ref < 0) fail('a back-reference inside the output');
    if (op + len > outLength) fail(`no more than ${outLength} decompressed bytes`);
    for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
  }
  if (op !== outLength) fail(`${outLength} decompressed bytes, got ${op}`);
  return out;
}
