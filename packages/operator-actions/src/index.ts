export * from './dead-letters.js';
export * from './bootstrap.js';
