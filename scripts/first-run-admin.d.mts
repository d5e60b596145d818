// Types of first-run-admin.mjs (plain JavaScript: the launcher imports it before anything is built).
export declare const FIRST_RUN_ADMIN_USER: 'admin';
export declare const FIRST_RUN_ADMIN_FILE: 'admin-password';
export declare function firstRunAdmin(
  env: Record<string, string | undefined>,
  dataDir: string,
): { user: string; path: string } | undefined;
