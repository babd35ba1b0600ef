export * from './envelope.js';
export * from './payloads.js';
export * from './event.js';
export * from './schema-id.js';
export * from './registry.js';
