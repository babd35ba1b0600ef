/**
 * The identifier of one event type's payload schema at one version: the JSON Schema's `$id` and the
 * CloudEvents `dataschema` attribute. A URN, since the schemas ship with the code, not on a server.
 */
export function schemaIdOf(eventType: string, schemaVersion: number): string {
  return `urn:commerce:event:${eventType}:v${schemaVersion}`;
}
