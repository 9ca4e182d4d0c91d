import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The DMF release, from the repository's top-level package.json. */
export const DMF_VERSION: string = (require('../../../package.json') as { version: string }).version;
