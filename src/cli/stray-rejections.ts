/**
 * kafkajs leaves some of its internal promises without a handler: a request of a client that is being
 * disconnected, or one whose broker connection was reset, rejects with nobody waiting for it ("Broker
 * not connected", a request timeout; kafkajs issue #1686). The operation that started it has already
 * failed or been given up through its own awaited promise, so such a rejection carries no news — but
 * Node ends the process on any unhandled rejection, which turned a clean stop into exit code 1.
 * Rejections from kafkajs are therefore logged and ignored; every other unhandled rejection is a bug
 * of ours and still ends the process as Node would.
 */
import { sep } from 'node:path';

const KAFKAJS_FRAME = `${sep}node_modules${sep}kafkajs${sep}`;

/** True for an error raised inside kafkajs (by its class name or the frames of its stack). */
export function isKafkaClientRejection(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false;
  if (reason.name.startsWith('KafkaJS')) return true;
  return (reason.stack ?? '').includes(KAFKAJS_FRAME);
}

/** Installs the policy above for the whole process; returns the uninstaller. */
export function tolerateKafkaClientRejections(warn: (message: string) => void): () => void {
  const onRejection = (reason: unknown): void => {
    if (!isKafkaClientRejection(reason)) throw reason;
    warn(
      `dragonfly-cdc: ignored an error of a Kafka client request nobody waited for any more: ${(reason as Error).message}\n`,
    );
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
