/**
 * Live bad input: a wrong Dragonfly binary path, a master that refuses the handshake (AUTH required,
 * wrong password), and a master that is not Dragonfly (redis-server): each a clear message naming
 * what was tried and what to do. Retrying cannot fix any of them without a change by the user, so the
 * source ends with that error instead of reconnecting.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startDragonfly } from '../../src/localstack/dragonfly-server';
import { freshRedisForFile } from '../integration/sink-harness';
import { uniqueName } from '../integration/source-helpers';
import { dragonflies, liveSkip } from '../support/live-dragonfly';
import { startSource } from '../support/live-pipeline';

/** The error the source ends with against `url`: at once, without a reconnect. */
async function firstFailure(url: string): Promise<string> {
  const source = startSource(url, uniqueName('live-bad'));
  try {
    const ended = await Promise.race([
      source.ended.then(
        () => new Error('the source ended without an error'),
        (error: unknown) => error as Error,
      ),
      new Promise<Error>((resolve) =>
        setTimeout(() => resolve(new Error('the source did not end within 20 s')), 20_000),
      ),
    ]);
    assert.equal(source.log.messages.filter((m) => /^replication interrupted/.test(m)).length, 0);
    return ended.message;
  } finally {
    await source.stop();
  }
}

describe('live: bad input', { skip: liveSkip }, () => {
  const servers = dragonflies();
  const redis = freshRedisForFile();

  test('a wrong Dragonfly binary path names the path', async () => {
    await assert.rejects(
      startDragonfly({ binary: '/nonexistent/dragonfly' }),
      /cannot start \/nonexistent\/dragonfly/,
    );
  });

  test('a master that requires AUTH: no password, a wrong password', async () => {
    const master = await servers.start({ password: 'secret' });
    assert.match(
      await firstFailure(master.url),
      new RegExp(
        `master ${master.url}: .*NOAUTH.* the master requires a password: set the Dragonfly password`,
      ),
    );
    const wrong = `redis://:wrong@127.0.0.1:${master.port}`;
    assert.match(
      await firstFailure(wrong),
      /master redis:\/\/127\.0\.0\.1:\d+: authentication failed: WRONGPASS .* check the Dragonfly user\/password/,
    );
  });

  test('a redis-server as master', async () => {
    assert.match(
      await firstFailure(redis.url),
      new RegExp(`master ${redis.url}: not a Dragonfly master: .* replicates from Dragonfly only`),
    );
  });
});
