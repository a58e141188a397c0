// Writes docs/errors.md from the error catalogue (npm run docs:errors).
import { writeFileSync } from 'node:fs';
import { renderErrorReference } from '../src/error-reference.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorReference());
console.log('wrote docs/errors.md');
