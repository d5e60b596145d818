/**
 * The platform's API Studio page: an add-on shows it by declaring a component with this path
 * (a sidebar for `ADMINS`). Workspace admins browse Clockify's operations and run them with their
 * own token; GET only unless the installation's setting `API_STUDIO_WRITES_SETTING` is on.
 */
export const API_STUDIO_PATH = '/ui/api-studio';
/** The id of the CHECKBOX setting that lets API Studio send writes (each one confirmed). */
export const API_STUDIO_WRITES_SETTING = 'api-studio-writes';
