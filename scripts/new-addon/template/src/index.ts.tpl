export { addon } from './addon.js';
