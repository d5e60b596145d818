export { addon } from './addon.js';
export { mirrorEntity, MIRROR_TIME_ENTRIES_SETTING } from './mirror.js';
