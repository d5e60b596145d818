import { bootstrapQueue } from './bootstrap/queue.js';
import { lifecycleQueue } from './lifecycle/queue.js';
import { maintenanceQueue } from './maintenance/queue.js';
import type { QueueSpec } from './runtime/catalog.js';
import { webhooksQueue } from './webhooks/queue.js';

/** Every queue the worker can consume, each declared by its domain folder. */
export const CATALOG: readonly QueueSpec[] = [lifecycleQueue, webhooksQueue, bootstrapQueue, maintenanceQueue];
