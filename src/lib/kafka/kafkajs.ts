// kafkajs is CommonJS: Node's ESM loader cannot see all its named exports, so take them from the
// default export once, here, and import them from this module everywhere else.
import kafkajs from 'kafkajs';

export const {
  Kafka,
  logLevel,
  Partitioners,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  KafkaJSError,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;
