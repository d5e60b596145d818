export * from './keyring.js';
export * from './dev-key.js';
