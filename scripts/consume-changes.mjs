#!/usr/bin/env node
/**
 * Standalone consumer of a dragonfly-cdc changes topic. It proves the event contract is enough on
 * its own: it imports only kafkajs, avsc and the schemas/*.avsc files (not the project's code).
 *
 *   node scripts/consume-changes.mjs --brokers host:9092[,host2:9092] --topic <changes topic> \
 *        --out dataset.json [--events-jsonl events.jsonl]
 *
 * It reads every partition from the beginning up to the end offsets seen at start, decodes each
 * message (Avro single-object encoding; writer schema found by fingerprint among schemas/ and
 * schemas/released/), reassembles chunked values, and
 * - with --events-jsonl, writes every decoded (reassembled) event as one JSON line;
 * - with --out, writes the dataset the events describe, in the fixtures' expected.json format:
 *   the newest epoch's snapshot records (replace semantics), then its journal commands, flows
 *   applied side by side with FLUSHDB/FLUSHALL run once when every flow has reached them.
 * Journal commands are interpreted for a core set only (listed above createDataset); any other command
 * is counted and reported on stderr, and the exit code is then 2: the dataset may differ from the
 * master's. Sketches, JSON and streams are taken from snapshot records only.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import kafkajs from 'kafkajs';

/** No batch for this long after the last one: only control records (commit markers) are left. */
const IDLE_END_MS = 5000;
const SCHEMAS = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    if (!['brokers', 'topic', 'out', 'events-jsonl'].includes(name) || argv[i + 1] === undefined) {
      throw new Error(
        `unexpected argument ${argv[i]}; usage: --brokers h:p --topic t [--out f.json] [--events-jsonl f]`,
      );
    }
    options[name] = argv[i + 1];
  }
  if (!options.brokers || !options.topic || (!options.out && !options['events-jsonl'])) {
    throw new Error('--brokers and --topic are required, and at least one of --out / --events-jsonl');
  }
  return options;
}

// ---- Avro single-object encoding: Parsing Canonical Form + CRC-64-AVRO (Avro specification) ----
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
function canonical(s, ns) {
  const full = (n, space) => (n.includes('.') || !space ? n : `${space}.${n}`);
  if (typeof s === 'string') return JSON.stringify(PRIMITIVES.has(s) ? s : full(s, ns));
  if (Array.isArray(s)) return `[${s.map((b) => canonical(b, ns)).join(',')}]`;
  const t = s.type;
  if (typeof t !== 'string') return canonical(t, ns);
  if (PRIMITIVES.has(t)) return JSON.stringify(t);
  if (t === 'array') return `{"type":"array","items":${canonical(s.items, ns)}}`;
  if (t === 'map') return `{"type":"map","values":${canonical(s.values, ns)}}`;
  if (!['record', 'error', 'enum', 'fixed'].includes(t)) return canonical(t, ns);
  const name = full(s.name, s.namespace ?? ns);
  const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(t)}`;
  if (t === 'enum') return `${head},"symbols":${JSON.stringify(s.symbols)}}`;
  if (t === 'fixed') return `${head},"size":${s.size}}`;
  const inner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
  return `${head},"fields":[${s.fields.map((f) => `{"name":${JSON.stringify(f.name)},"type":${canonical(f.type, inner)}}`).join(',')}]}`;
}
const EMPTY = 0xc15d213aa4d7a795n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & 0xffffffffffffffffn);
  return fp;
});
function fingerprintHex(schemaJson) {
  let fp = EMPTY;
  for (const byte of Buffer.from(canonical(schemaJson, ''), 'utf8'))
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)];
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out.toString('hex');
}

function loadSchemas() {
  const read = (file) => JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
  const current = { key: read('change-event-key.avsc'), value: read('change-event.avsc') };
  const readers = { key: avro.Type.forSchema(current.key), value: avro.Type.forSchema(current.value) };
  const writers = new Map();
  const released = JSON.parse(readFileSync(join(SCHEMAS, 'released', 'index.json'), 'utf8'));
  for (const { role, file } of released) {
    const json = read(join('released', file));
    writers.set(fingerprintHex(json), {
      role,
      resolver: readers[role].createResolver(avro.Type.forSchema(json)),
    });
  }
  for (const role of ['key', 'value'])
    writers.set(fingerprintHex(current[role]), { role, resolver: undefined });
  return (message, role) => {
    if (message.length < 10 || message[0] !== 0xc3 || message[1] !== 0x01) {
      throw new Error(
        `message ${role} does not start with the single-object marker C3 01 (got ${message.subarray(0, 4).toString('hex')})`,
      );
    }
    const fp = message.subarray(2, 10).toString('hex');
    const writer = writers.get(fp);
    if (!writer || writer.role !== role) {
      throw new Error(
        `unknown ${role} schema fingerprint ${fp}: add the producer's .avsc to schemas/released/`,
      );
    }
    return readers[role].fromBuffer(message.subarray(10), writer.resolver);
  };
}

// ---- events: unwrap unions, reassemble chunks (contiguous per flow) ----
const unwrap = (union) => {
  const [name] = Object.keys(union);
  return { type: name.slice(name.lastIndexOf('.') + 1), ...union[name] };
};

function reassembler() {
  const open = new Map();
  const concatValue = (whole, piece, mode) => {
    if (mode === 'APPEND_BYTES') {
      const field = { StringValue: 'value', JsonValue: 'json', SketchValue: 'raw' }[whole.type];
      whole[field] = Buffer.concat([whole[field], piece[field]]);
      return;
    }
    for (const field of ['items', 'members', 'memberExpireAtMs', 'entries', 'fields', 'fieldExpireAtMs']) {
      if (Array.isArray(whole[field]) && Array.isArray(piece[field])) whole[field].push(...piece[field]);
    }
    for (const group of piece.groups ?? []) {
      const last = whole.groups.at(-1);
      if (!last || !last.name.equals(group.name)) whole.groups.push(group);
      else {
        last.pending.push(...group.pending);
        for (const c of group.consumers) {
          const lc = last.consumers.at(-1);
          if (lc && lc.name.equals(c.name)) lc.pending.push(...c.pending);
          else last.consumers.push(c);
        }
      }
    }
  };
  return (event) => {
    const p = event.payload;
    const flow = event.source.flow;
    const chunk = p.chunk;
    if (!chunk || chunk.count === 1) {
      if (open.has(flow))
        throw new Error(
          `flow ${flow}: ${p.type} at lsn ${event.source.lsn} index ${event.source.index} interrupts a chunked value`,
        );
      return event;
    }
    if (chunk.index === 0) open.set(flow, event);
    else {
      const first = open.get(flow);
      if (!first || first.payload.chunk.index + 1 !== chunk.index) {
        throw new Error(
          `flow ${flow}: chunk ${chunk.index}/${chunk.count} at lsn ${event.source.lsn} index ${event.source.index} does not follow the previous chunk`,
        );
      }
      if (p.type === 'SnapshotRecord') concatValue(first.payload.value, p.value, chunk.mode);
      else if (chunk.mode === 'APPEND_BYTES') {
        const [head, ...rest] = p.args;
        first.payload.args[first.payload.args.length - 1] = Buffer.concat([first.payload.args.at(-1), head]);
        first.payload.args.push(...rest);
      } else first.payload.args.push(...p.args);
      first.payload.chunk = chunk;
    }
    if (chunk.index < chunk.count - 1) return null;
    const whole = open.get(flow);
    open.delete(flow);
    whole.payload.chunk = { index: 0, count: 1, mode: 'REPLACE' };
    return { source: event.source, payload: whole.payload };
  };
}

function decodeEvent(decode, message) {
  const raw = decode(message.value, 'value');
  const payload = unwrap(raw.payload);
  if (payload.type === 'SnapshotRecord') payload.value = unwrap(payload.value);
  return { source: { ...raw.source }, payload };
}

// ---- the dataset (expected.json model) ----
const SKETCH_TYPES = {
  SBF: 'MBbloom--',
  SBF2: 'MBbloom--',
  CMS: 'CMSk-TYPE',
  TOPK: 'TopK-TYPE',
  CUCKOO: 'MBbloomCF',
};
// Journal commands interpreted: SET (PXAT, KEEPTTL), MSET, DEL, UNLINK, PEXPIREAT, PERSIST, INCR, INCRBY,
// DECR, DECRBY, APPEND, LPUSH, RPUSH, LPOP, RPOP, SADD, SREM, HSET, HDEL, ZADD, ZREM, FLUSHDB, FLUSHALL.

function fromSnapshot(record) {
  const v = record.value;
  const base = { expireAtMs: record.expireAtMs };
  switch (v.type) {
    case 'StringValue':
      return { type: 'string', value: v.value, ...base };
    case 'ListValue':
      return { type: 'list', value: v.items, ...base };
    case 'SetValue':
      return {
        type: 'set',
        value: new Map(
          v.members.map((m, i) => [m.toString('latin1'), { m, exp: v.memberExpireAtMs?.[i] ?? null }]),
        ),
        ...base,
      };
    case 'ZSetValue':
      return {
        type: 'zset',
        value: new Map(v.entries.map((e) => [e.member.toString('latin1'), { m: e.member, score: e.score }])),
        ...base,
      };
    case 'HashValue':
      return {
        type: 'hash',
        value: new Map(
          v.fields.map((f, i) => [
            f.field.toString('latin1'),
            { f: f.field, v: f.value, exp: v.fieldExpireAtMs?.[i] ?? null },
          ]),
        ),
        ...base,
      };
    case 'StreamValue':
      return { type: 'stream', value: v, ...base };
    case 'JsonValue':
      return { type: 'ReJSON-RL', value: v.json, ...base };
    default:
      return { type: SKETCH_TYPES[v.kind] ?? v.kind, value: null, ...base };
  }
}

function createDataset() {
  const dbs = new Map();
  const unknown = new Map();
  const db = (n) => dbs.get(n) ?? dbs.set(n, new Map()).get(n);
  const text = (b) => b.toString('latin1');
  const num = (b) => Number(b.toString());
  const apply = (p) => {
    const name = p.command.toUpperCase();
    const keys = db(p.db);
    const [k, ...rest] = p.args;
    const get = (type, make) => {
      const current = keys.get(text(k));
      if (current?.type === type) return current;
      const created = { type, value: make(), expireAtMs: null };
      keys.set(text(k), created);
      return created;
    };
    switch (name) {
      case 'SET': {
        const opts = rest.slice(1).map(text);
        const old = keys.get(text(k));
        const at = opts.indexOf('PXAT');
        keys.set(text(k), {
          type: 'string',
          value: rest[0],
          expireAtMs:
            at >= 0 ? Number(opts[at + 1]) : opts.includes('KEEPTTL') ? (old?.expireAtMs ?? null) : null,
        });
        return;
      }
      case 'MSET':
        for (let i = 0; i + 1 < p.args.length; i += 2)
          keys.set(text(p.args[i]), { type: 'string', value: p.args[i + 1], expireAtMs: null });
        return;
      case 'DEL':
      case 'UNLINK':
        for (const key of p.args) keys.delete(text(key));
        return;
      case 'PEXPIREAT': {
        const e = keys.get(text(k));
        if (e) e.expireAtMs = num(rest[0]);
        return;
      }
      case 'PERSIST': {
        const e = keys.get(text(k));
        if (e) e.expireAtMs = null;
        return;
      }
      case 'INCR':
      case 'INCRBY':
      case 'DECR':
      case 'DECRBY': {
        const by = name.endsWith('BY') ? BigInt(text(rest[0])) : 1n;
        const e = get('string', () => Buffer.from('0'));
        e.value = Buffer.from(String(BigInt(text(e.value)) + (name.startsWith('DECR') ? -by : by)));
        return;
      }
      case 'APPEND': {
        const e = get('string', () => Buffer.alloc(0));
        e.value = Buffer.concat([e.value, rest[0]]);
        return;
      }
      case 'LPUSH': {
        const e = get('list', () => []);
        for (const v of rest) e.value.unshift(v);
        return;
      }
      case 'RPUSH':
        get('list', () => []).value.push(...rest);
        return;
      case 'LPOP':
      case 'RPOP': {
        const e = keys.get(text(k));
        if (!e) return;
        const n = rest.length ? num(rest[0]) : 1;
        for (let i = 0; i < n; i++) {
          if (name === 'LPOP') e.value.shift();
          else e.value.pop();
        }
        if (e.value.length === 0) keys.delete(text(k));
        return;
      }
      case 'SADD': {
        const e = get('set', () => new Map());
        for (const m of rest) if (!e.value.has(text(m))) e.value.set(text(m), { m, exp: null });
        return;
      }
      case 'SREM':
      case 'HDEL':
      case 'ZREM': {
        const e = keys.get(text(k));
        if (!e) return;
        for (const m of rest) e.value.delete(text(m));
        if (e.value.size === 0) keys.delete(text(k));
        return;
      }
      case 'HSET': {
        const e = get('hash', () => new Map());
        for (let i = 0; i + 1 < rest.length; i += 2)
          e.value.set(text(rest[i]), {
            f: rest[i],
            v: rest[i + 1],
            exp: e.value.get(text(rest[i]))?.exp ?? null,
          });
        return;
      }
      case 'ZADD': {
        const e = get('zset', () => new Map());
        for (let i = 0; i + 1 < rest.length; i += 2)
          e.value.set(text(rest[i + 1]), { m: rest[i + 1], score: Number(text(rest[i])) });
        return;
      }
      case 'FLUSHDB':
        dbs.delete(p.db);
        return;
      case 'FLUSHALL':
        dbs.clear();
        return;
      default:
        unknown.set(name, (unknown.get(name) ?? 0) + 1);
    }
  };
  return { dbs, unknown, apply, db };
}

const bytesJson = (b) => {
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : { b64: b.toString('base64') };
};
const keyJson = (k) => {
  const b = Buffer.from(k, 'latin1');
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : `b64:${b.toString('base64')}`;
};
const compareBytes = (a, b) => Buffer.compare(a, b);

function entryJson(e) {
  const out = { type: e.type, expireAtMs: e.expireAtMs ?? null };
  const ttl = {};
  switch (e.type) {
    case 'string':
      out.value = bytesJson(e.value);
      break;
    case 'list':
      out.value = e.value.map(bytesJson);
      break;
    case 'set': {
      const members = [...e.value.values()].sort((a, b) => compareBytes(a.m, b.m));
      out.value = members.map((x) => bytesJson(x.m));
      for (const x of members) if (x.exp !== null) ttl[bytesJson(x.m)] = x.exp;
      break;
    }
    case 'zset':
      out.value = [...e.value.values()]
        .sort((a, b) => a.score - b.score || compareBytes(a.m, b.m))
        .map((x) => [bytesJson(x.m), x.score]);
      break;
    case 'hash': {
      const fields = [...e.value.values()].sort((a, b) => compareBytes(a.f, b.f));
      out.value = fields.map((x) => [bytesJson(x.f), bytesJson(x.v)]);
      for (const x of fields) if (x.exp !== null) ttl[bytesJson(x.f)] = x.exp;
      break;
    }
    case 'stream':
      out.value = {
        entries: e.value.entries.map((x) => [x.id, x.fields.map(bytesJson)]),
        groups: e.value.groups.map((g) => ({
          name: bytesJson(g.name),
          lastDeliveredId: g.lastDeliveredId,
          pending: g.pending.length,
        })),
      };
      break;
    case 'ReJSON-RL':
      out.value = [JSON.parse(e.value.toString('utf8'))];
      break;
    default:
      out.value = { unsupportedType: e.type };
  }
  if (Object.keys(ttl).length > 0) out.memberExpireAtMs = ttl;
  return out;
}

/** Applies the newest epoch per flow; flows side by side, global commands once all flows reached them. */
function buildDataset(eventsByFlow) {
  const epoch = Math.max(...[...eventsByFlow.values()].flat().map((e) => e.source.epoch));
  const queues = [...eventsByFlow.values()].map((events) => {
    const ofEpoch = events.filter((e) => e.source.epoch === epoch);
    return ofEpoch.slice(ofEpoch.findIndex((e) => e.payload.type === 'SnapshotStarted'));
  });
  const dataset = createDataset();
  const isGlobal = (e) =>
    e.payload.type === 'JournalCommand' && ['FLUSHDB', 'FLUSHALL'].includes(e.payload.command.toUpperCase());
  const at = queues.map(() => 0);
  for (;;) {
    for (const [q, events] of queues.entries()) {
      while (at[q] < events.length && !isGlobal(events[at[q]])) {
        const p = events[at[q]++].payload;
        if (p.type === 'SnapshotRecord') dataset.db(p.db).set(p.key.toString('latin1'), fromSnapshot(p));
        else if (p.type === 'JournalCommand') dataset.apply(p);
        else if (p.type === 'ExpiredKey')
          for (const k of p.keys) dataset.db(p.db).delete(k.toString('latin1'));
      }
    }
    const waiting = queues.map((events, q) => events[at[q]]).filter(Boolean);
    if (waiting.length === 0) break;
    const txid = Math.min(...waiting.map((e) => e.payload.txid));
    const first = waiting.find((e) => e.payload.txid === txid);
    dataset.apply(first.payload);
    queues.forEach((events, q) => {
      if (events[at[q]]?.payload.txid === txid && isGlobal(events[at[q]])) at[q]++;
    });
  }
  const out = {};
  for (const [n, keys] of [...dataset.dbs.entries()].sort((a, b) => a[0] - b[0])) {
    if (keys.size === 0) continue;
    out[n] = {};
    for (const k of [...keys.keys()].sort()) out[n][keyJson(k)] = entryJson(keys.get(k));
  }
  return { out, unknown: dataset.unknown, epoch };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const decode = loadSchemas();
  const kafka = new kafkajs.Kafka({
    clientId: 'consume-changes',
    brokers: options.brokers.split(','),
    logLevel: kafkajs.logLevel.WARN,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(options.topic);
  await admin.disconnect();
  const remaining = new Map(
    ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const consumer = kafka.consumer({
    groupId: `consume-changes-${randomUUID()}`,
    readUncommitted: false,
  });
  const jsonl = options['events-jsonl'] ? createWriteStream(options['events-jsonl']) : undefined;
  const push = reassembler();
  const eventsByFlow = new Map();
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  // A transactional topic ends with a commit marker: a control record that is never delivered as a
  // message. A partition is done when a batch's last offset (which counts control records) reaches
  // the end seen at start; a marker fetched on its own produces no batch at all, hence the idle rule.
  await new Promise((resolve, reject) => {
    if (remaining.size === 0) resolve();
    let idle;
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(resolve, IDLE_END_MS);
    };
    restartIdle();
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          try {
            restartIdle();
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break;
              const event = push(decodeEvent(decode, message));
              if (!event) continue;
              count++;
              (
                eventsByFlow.get(event.source.flow) ??
                eventsByFlow.set(event.source.flow, []).get(event.source.flow)
              ).push(event);
              jsonl?.write(
                JSON.stringify(event, (_, v) =>
                  v?.type === 'Buffer' && Array.isArray(v.data) ? bytesJson(Buffer.from(v.data)) : v,
                ) + '\n',
              );
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(idle);
              resolve();
            }
          } catch (error) {
            clearTimeout(idle);
            reject(error);
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  jsonl?.end();
  console.error(`${count} events read from ${options.topic}`);
  if (!options.out) return 0;
  const { out, unknown, epoch } = buildDataset(eventsByFlow);
  writeFileSync(options.out, JSON.stringify(out, null, 1));
  console.error(`dataset of epoch ${epoch} written to ${options.out}`);
  if (unknown.size === 0) return 0;
  console.error(
    `journal commands this script does not interpret (dataset may differ): ${[...unknown].map(([n, c]) => `${n} x${c}`).join(', ')}`,
  );
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`consume-changes: ${error.message}`);
    process.exit(1);
  },
);
