/**
 * Walks a database with SCAN, a batch at a time, leaving out the sink's own keys. Nothing but the
 * current batch is held: a key may come twice (SCAN's guarantee is every key at least once), which
 * costs a second comparison, not a wrong result.
 */
import type Redis from 'ioredis';

export async function* scanKeys(
  redis: Redis,
  batchKeys: number,
  ownPrefix: string,
): AsyncGenerator<Buffer[]> {
  const own = Buffer.from(ownPrefix);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', batchKeys);
    cursor = next.toString();
    const compared = own.length === 0 ? keys : keys.filter((key) => !key.subarray(0, own.length).equals(own));
    if (compared.length > 0) yield compared;
  } while (cursor !== '0');
}
