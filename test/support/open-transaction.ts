/**
 * A producer that dies inside a transaction, for tests: run as a child process, it reads
 * `{ brokers, topic, transactionTimeoutMs, partitions: [[{ key, value } (base64)]] }` as JSON from stdin,
 * begins a transaction, sends each partition's messages, prints "sent" and waits to be killed (the
 * test sends SIGKILL). The transaction stays open until the coordinator aborts it after the timeout,
 * as when a source is killed with -9 mid-transaction.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';

interface Input {
  brokers: string;
  topic: string;
  transactionTimeoutMs: number;
  partitions: { key: string; value: string }[][];
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Input;
  const kafka = new Kafka({
    clientId: 'open-transaction',
    brokers: [input.brokers],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    transactionalId: `open-transaction-${process.pid}`,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: input.transactionTimeoutMs,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const tx = await producer.transaction();
  for (const [partition, messages] of input.partitions.entries()) {
    await tx.send({
      topic: input.topic,
      messages: messages.map((m) => ({
        partition,
        key: Buffer.from(m.key, 'base64'),
        value: Buffer.from(m.value, 'base64'),
      })),
    });
  }
  process.stdout.write('sent\n');
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`open-transaction: ${(error as Error).message}\n`);
  process.exit(1);
});
