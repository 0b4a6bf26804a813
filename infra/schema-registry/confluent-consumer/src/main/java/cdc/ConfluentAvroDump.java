package cdc;

import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Reads a topic from its start with Apicurio's Avro deserializer in Confluent mode (the writer schema
 * is fetched by the 4-byte id after the magic byte) and prints one JSON line per record:
 * {"partition":P,"offset":O,"key":AVRO-JSON,"value":AVRO-JSON}.
 * Usage: ConfluentAvroDump BROKERS TOPIC REGISTRY_API_URL EXPECTED_RECORDS TIMEOUT_MS
 */
public final class ConfluentAvroDump {
  public static void main(String[] args) throws Exception {
    String brokers = args[0];
    String topic = args[1];
    String registry = args[2];
    long expected = Long.parseLong(args[3]);
    Instant deadline = Instant.now().plusMillis(Long.parseLong(args[4]));

    Map<String, Object> serde = Map.of(
        SerdeConfig.REGISTRY_URL, registry,
        SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, "true",
        SerdeConfig.USE_ID, "contentId",
        SerdeConfig.ENABLE_HEADERS, "false");
    AvroKafkaDeserializer<GenericRecord> keys = new AvroKafkaDeserializer<>();
    keys.configure(serde, true);
    AvroKafkaDeserializer<GenericRecord> values = new AvroKafkaDeserializer<>();
    values.configure(serde, false);

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "confluent-avro-dump-" + System.nanoTime());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");

    long seen = 0;
    try (KafkaConsumer<GenericRecord, GenericRecord> consumer = new KafkaConsumer<>(props, keys, values)) {
      consumer.subscribe(List.of(topic));
      while (seen < expected && Instant.now().isBefore(deadline)) {
        for (ConsumerRecord<GenericRecord, GenericRecord> record : consumer.poll(Duration.ofMillis(500))) {
          System.out.println("{\"partition\":" + record.partition() + ",\"offset\":" + record.offset()
              + ",\"key\":" + json(record.key()) + ",\"value\":" + json(record.value()) + "}");
          seen++;
        }
      }
    }
    System.out.flush();
    if (seen < expected) {
      System.err.println("read " + seen + " of " + expected + " records before the timeout");
      System.exit(2);
    }
  }

  /** Avro's own JSON encoding of the record, with the writer schema the deserializer resolved. */
  private static String json(GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(record.getSchema(), out);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return out.toString(StandardCharsets.UTF_8);
  }
}
