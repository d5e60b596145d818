import { ENV_VARS_FILE, renderEnvVarsFile, writeIfChanged } from './generated.js';

console.log(
  writeIfChanged(ENV_VARS_FILE, renderEnvVarsFile()) ? `wrote ${ENV_VARS_FILE}` : `${ENV_VARS_FILE} is up to date`,
);
