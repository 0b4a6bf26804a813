/**
 * Builds the Confluent wire format of a source or sink from its configuration. The source first makes
 * the registry enforce schemaRegistry.compatibility on its subjects and checks its schemas against
 * them, so an incompatible schema stops it before anything is published; the sink only checks that the
 * registry answers (writer schemas are fetched by id as messages name them).
 */
import type { SchemaRegistryConfig } from '../config/shared';
import { currentSchemas, type SchemaRole } from '../events/schemas';
import { ConfluentWireFormat } from '../events/wire-format';
import type { Logger } from '../observability/logger';
import { HttpSchemaRegistryClient, incompatibleHint } from './client';
import { SchemaRegistryError } from './errors';
import { topicNameSubjects } from './subjects';

export interface ConfluentSetup {
  wireFormat: ConfluentWireFormat;
  registry: HttpSchemaRegistryClient;
}

export async function confluentWireFormat(
  settings: { topic: string; schemaRegistry: SchemaRegistryConfig },
  purpose: 'publish' | 'consume',
  logger: Logger,
): Promise<ConfluentSetup> {
  const registry = new HttpSchemaRegistryClient(settings.schemaRegistry, (message) => logger.warn(message));
  const subjects = topicNameSubjects(settings.topic);
  try {
    if (purpose === 'consume') {
      await registry.checkReachable();
    } else {
      for (const role of ['key', 'value'] as const) {
        await checkSubject(registry, subjects[role], role, settings.schemaRegistry.compatibility);
      }
    }
  } catch (error) {
    registry.close();
    throw error;
  }
  logger.info(
    `schema registry ${registry.url}: subjects ${subjects.key} and ${subjects.value}` +
      (purpose === 'publish' ? ` (compatibility ${settings.schemaRegistry.compatibility})` : ''),
  );
  return { wireFormat: new ConfluentWireFormat(registry, subjects), registry };
}

async function checkSubject(
  registry: HttpSchemaRegistryClient,
  subject: string,
  role: SchemaRole,
  level: SchemaRegistryConfig['compatibility'],
): Promise<void> {
  await registry.setCompatibility(subject, level);
  const problems = await registry.compatibilityProblems(subject, JSON.stringify(currentSchemas()[role].json));
  if (problems.length > 0) {
    throw new SchemaRegistryError(
      'incompatible',
      `the ${role} schema of this build is not ${level}-compatible with the latest version of subject ` +
        `${subject} in the schema registry at ${registry.url} (${problems.join('; ')})`,
      incompatibleHint(subject),
    );
  }
}
