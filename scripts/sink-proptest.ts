/**
 * The sink's property test on demand (the CI test runs a few hundred cases of the same): seeded
 * random event streams applied by the sink under injected faults to a real redis-server must equal
 * the dataset model (test/integration/sink-property.ts).
 *
 *   npm run proptest -- [--cases 10000] [--seed N] [--redis-url redis://...]
 *   npm run proptest -- --case-seed S      run one case (the seed a failure printed)
 *
 * Without --redis-url a redis-server is started (and stopped) here; the target is flushed before
 * every case. Prints the faults injected per kind. Exit code 1 at the first failing case.
 */
import Redis from 'ioredis';
import { startRedisServers, type RedisServers } from '../src/localstack/redis-server';
import { capabilitiesOf, FAULT_KINDS, PropertyFailure, runSinkCase } from '../test/integration/sink-property';
import { caseSeed } from '../test/support/fuzz';

interface Args {
  cases: number;
  seed: number;
  caseSeed: number | null;
  redisUrl: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { cases: 1000, seed: Date.now() % 2 ** 31, caseSeed: null, redisUrl: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined)
      throw new Error(`${flag} needs a value (see the header of scripts/sink-proptest.ts)`);
    if (flag === '--cases') args.cases = Number(value);
    else if (flag === '--seed') args.seed = Number(value);
    else if (flag === '--case-seed') args.caseSeed = Number(value);
    else if (flag === '--redis-url') args.redisUrl = value;
    else throw new Error(`unknown option ${flag}: --cases, --seed, --case-seed, --redis-url`);
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  let servers: RedisServers | undefined;
  const url = args.redisUrl ?? (servers = await startRedisServers({ instances: 1 })).instances[0]!.url;
  const redis = new Redis(url);
  try {
    const capabilities = await capabilitiesOf(redis);
    const seeds =
      args.caseSeed !== null
        ? [args.caseSeed]
        : Array.from({ length: args.cases }, (_, i) => caseSeed(args.seed, i));
    if (args.caseSeed === null) console.log(`sink property test: ${seeds.length} cases, seed ${args.seed}`);
    const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<string, number>;
    let events = 0;
    const started = Date.now();
    for (let i = 0; i < seeds.length; i++) {
      try {
        const stats = await runSinkCase(url, redis, capabilities, seeds[i]!);
        events += stats.events;
        for (const kind of FAULT_KINDS) faults[kind] = (faults[kind] ?? 0) + stats.faults[kind];
      } catch (e) {
        if (!(e instanceof PropertyFailure)) throw e;
        console.log(`FAILED after ${i} passing cases: ${e.message}`);
        return 1;
      }
      if ((i + 1) % 500 === 0)
        console.log(`  ${i + 1} cases, ${Math.round((Date.now() - started) / 1000)} s`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`${seeds.length} cases, ${events} events, 0 differences, ${seconds} s`);
    console.log(`faults injected: ${FAULT_KINDS.map((k) => `${k} ${faults[k]}`).join(', ')}`);
    return 0;
  } finally {
    redis.disconnect();
    await servers?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
