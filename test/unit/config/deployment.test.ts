import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { optionTable } from '../../../src/config/reference';
import { loadSinkConfig, sinkConfig } from '../../../src/config/sink';
import { loadSourceConfig, sourceConfig } from '../../../src/config/source';

const root = join(__dirname, '..', '..', '..');
const connectors = join(root, 'connectors');

test('every connector config validates against its schema', () => {
  const files = readdirSync(connectors).filter((name) => /\.(ya?ml|json)$/.test(name));
  assert.ok(files.length >= 2);
  for (const name of files) {
    const path = join(connectors, name);
    if (name.startsWith('source')) loadSourceConfig(['--config', path], {});
    else if (name.startsWith('sink')) loadSinkConfig(['--config', path], {});
    else assert.fail(`connectors/${name}: name it source*.yaml or sink*.yaml so it is tested`);
  }
  const source = loadSourceConfig(['--config', join(connectors, 'source.yaml')], {});
  assert.equal(source.dragonfly.url, 'redis://dragonfly:6379');
  assert.deepEqual(source.kafka.brokers, ['kafka:9092']);
  const sink = loadSinkConfig(['--config', join(connectors, 'sink.yaml')], {});
  assert.equal(sink.redis.url, 'redis://redis:6379');
  assert.equal(sink.topic, source.topic);
  assert.equal(sink.encoding, source.encoding);
});

test('docker-compose runs source and sink with the connector configs', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[]; image?: string }>;
  };
  assert.deepEqual(Object.keys(compose.services).sort(), ['dragonfly', 'kafka', 'redis', 'sink', 'source']);
  for (const role of ['source', 'sink']) {
    const command = compose.services[role]?.command ?? [];
    assert.equal(command[0], role);
    const file = command[command.indexOf('--config') + 1] ?? '';
    assert.ok(existsSync(join(connectors, basename(file))), `${role} uses ${file}, missing from connectors/`);
  }
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^ENTRYPOINT \["node", "bin\/dragonfly-cdc\.js"\]$/m);
});

test('docs/configuration.md lists every option as the schemas define them', () => {
  const docs = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
  for (const definition of [sourceConfig, sinkConfig]) {
    assert.ok(
      docs.includes(optionTable(definition.options)),
      `the ${definition.command} table is out of date: run "npx tsx scripts/config-docs.ts"`,
    );
  }
});
