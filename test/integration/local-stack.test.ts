import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers, redisUrl } from '../support/env';

test('the local Kafka broker creates a topic, takes a record and hands it to a consumer group', async () => {
  const kafka = new Kafka({
    clientId: 'local-stack-test',
    brokers: [kafkaBrokers()],
    logLevel: logLevel.WARN,
  });
  const topic = `local-stack-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true });
  const consumer = kafka.consumer({ groupId: `local-stack-${randomUUID()}` });
  try {
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true);

    // auto-creation is off, so a topic that nobody created does not spring into existence
    await producer.connect();
    const bigValue = Buffer.alloc(4 * 1024 * 1024, 7);
    await producer.send({
      topic,
      messages: [
        { key: 'k1', value: 'hello' },
        { key: 'big', value: bigValue },
      ],
    });

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; size: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no records within 30 s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: message.key?.toString() ?? '', size: message.value?.length ?? 0 });
          if (received.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    assert.deepEqual(received, [
      { key: 'k1', size: 5 },
      { key: 'big', size: bigValue.length },
    ]);
    const topics = await admin.listTopics();
    assert.ok(topics.includes(topic));
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
});

test('the local broker refuses to auto-create topics', async () => {
  const kafka = new Kafka({
    clientId: 'local-stack-test',
    brokers: [kafkaBrokers()],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ retry: { retries: 1 } });
  await producer.connect();
  try {
    await assert.rejects(
      producer.send({ topic: `never-created-${randomUUID()}`, messages: [{ value: 'x' }] }),
      /topic-partition|UNKNOWN_TOPIC/i,
    );
  } finally {
    await producer.disconnect();
  }
});

test('the local Redis stores and returns values', async () => {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  try {
    const key = `local-stack:${randomUUID()}`;
    await redis.set(key, 'v1');
    await redis.hset(`${key}:h`, { a: '1', b: '2' });
    assert.equal(await redis.get(key), 'v1');
    assert.deepEqual(await redis.hgetall(`${key}:h`), { a: '1', b: '2' });
    assert.match(await redis.info('server'), /redis_version:\d+\.\d+/);
    await redis.del(key, `${key}:h`);
  } finally {
    redis.disconnect();
  }
});
