/**
 * The configuration files of a single-node KRaft broker (combined broker + controller on loopback).
 * Pure: callers write the returned text to disk.
 */

export interface KafkaServerConfig {
  /** PLAINTEXT listener, the one clients use */
  port: number;
  /** CONTROLLER listener (KRaft quorum) */
  controllerPort: number;
  /** absolute path of the broker's data (log.dirs) */
  dataDir: string;
  kafkaMajor: number;
}

/** Large enough for the connector's biggest events (a big key's chunks), small enough to stay modest. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function serverProperties(config: KafkaServerConfig): string {
  const host = '127.0.0.1';
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // a static voter list needs no extra StorageTool flag in 3.9 nor in 4.x
    'controller.quorum.voters': `1@${host}:${config.controllerPort}`,
    listeners: `PLAINTEXT://${host}:${config.port},CONTROLLER://${host}:${config.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${config.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': config.dataDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // one partition per internal topic: the first group join / transactional producer stays fast
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    // kafkajs races KRaft auto-creation (subscribe fails before the topic exists): create topics explicitly
    'auto.create.topics.enable': false,
    'message.max.bytes': MAX_MESSAGE_BYTES,
    'replica.fetch.max.bytes': MAX_MESSAGE_BYTES,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
  };
  if (config.kafkaMajor >= 4) {
    settings['share.coordinator.state.topic.replication.factor'] = 1;
    settings['share.coordinator.state.topic.min.isr'] = 1;
  }
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

/**
 * Loggers kept at INFO: the start/stop milestones. Everything else logs WARN and above, so the last
 * lines of the log, which start-up errors quote, are the ones that explain a failure.
 */
const LIFECYCLE_LOGGERS = ['kafka.Kafka$', 'kafka.server.KafkaRaftServer', 'kafka.server.BrokerServer'];

export interface LogConfig {
  fileName: string;
  /** the JVM system property that points the logging backend at the file */
  jvmProperty(path: string): string;
  text: string;
}

/** Kafka 3.x logs through reload4j (log4j 1 syntax), 4.x through log4j2. Both write to stdout. */
export function logConfig(kafkaMajor: number): LogConfig {
  const pattern = '[%d] %p %m (%c)%n';
  if (kafkaMajor >= 4) {
    const lines = [
      'status=warn',
      'appender.out.type=Console',
      'appender.out.name=OUT',
      'appender.out.layout.type=PatternLayout',
      `appender.out.layout.pattern=${pattern}`,
      'rootLogger.level=warn',
      'rootLogger.appenderRef.out.ref=OUT',
      ...LIFECYCLE_LOGGERS.flatMap((name, i) => [`logger.l${i}.name=${name}`, `logger.l${i}.level=info`]),
    ];
    return {
      fileName: 'log4j2.properties',
      jvmProperty: (path) => `-Dlog4j2.configurationFile=${path}`,
      text: lines.join('\n') + '\n',
    };
  }
  const lines = [
    'log4j.rootLogger=WARN, out',
    'log4j.appender.out=org.apache.log4j.ConsoleAppender',
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
    `log4j.appender.out.layout.ConversionPattern=${pattern}`,
    ...LIFECYCLE_LOGGERS.map((name) => `log4j.logger.${name}=INFO`),
  ];
  return {
    fileName: 'log4j.properties',
    jvmProperty: (path) => `-Dlog4j.configuration=file:${path}`,
    text: lines.join('\n') + '\n',
  };
}
