import { fileURLToPath } from 'node:url';

/** The checkout this kit runs from: the agent and controller it starts are the ones built here. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const AGENT_MAIN = `${REPO_ROOT}agent/dist/src/main.js`;
export const CONTROLLER_MAIN = `${REPO_ROOT}controller/dist/src/main.js`;
export const CLI_MAIN = `${REPO_ROOT}controller/dist/src/cli/main.js`;
