export * from './names.js';
export * from './payloads.js';
export * from './options.js';
export * from './connections.js';
export * from './queues.js';
export * from './stored-tokens.js';
export * from './durability.js';
export * from './deadline.js';
