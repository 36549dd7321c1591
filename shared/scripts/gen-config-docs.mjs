// Writes docs/configuration.md from the zod schemas (run after a build: it reads shared/dist).
// shared/test/config-reference.test.ts fails while the committed file differs from this output.
import { writeFileSync } from 'node:fs';
import { configReference } from '../dist/src/config/reference.js';

const target = new URL('../../docs/configuration.md', import.meta.url);
writeFileSync(target, configReference());
console.log(`wrote ${target.pathname}`);
