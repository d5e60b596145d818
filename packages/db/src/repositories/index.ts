export * from './api-calls.js';
export * from './bootstrap.js';
export * from './dead-letters.js';
export * from './entities.js';
export * from './installations.js';
export * from './webhook-events.js';
export * from './token-ciphertexts.js';
export * from './parent-cursor.js';
