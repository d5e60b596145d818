export * from './vars.js';
export * from './define.js';
export * from './fragments.js';
export * from './paths.js';
export { renderEnvDocs } from './docs.js';
