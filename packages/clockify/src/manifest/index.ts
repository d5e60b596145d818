export * from './types.js';
export * from './build.js';
export * from './validate.js';
export * from './lint.js';
export { manifestSchema, type ManifestSchemaDocument } from './schemas.js';
export * from './settings.js';
