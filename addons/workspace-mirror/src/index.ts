export { addon, mirrorEntity, MIRROR_TIME_ENTRIES_SETTING } from './addon.js';
