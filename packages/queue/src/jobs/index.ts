import { bootstrapContract } from './bootstrap.js';
import { lifecycleContract } from './lifecycle.js';
import { maintenanceContract } from './maintenance.js';
import { webhooksContract } from './webhooks.js';

export * from './contract.js';
export * from './lifecycle.js';
export * from './webhooks.js';
export * from './bootstrap.js';
export * from './maintenance.js';

/** Every queue's contract, one module each: the job catalog. */
export const QUEUE_CONTRACTS = {
  lifecycle: lifecycleContract,
  webhooks: webhooksContract,
  bootstrap: bootstrapContract,
  maintenance: maintenanceContract,
} as const;
