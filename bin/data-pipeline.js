#!/usr/bin/env node
// The CLI entry (`npm start`, `npx data-pipeline`). Runs the compiled dist/ (scripts/build.mjs, made at
// install by `prepare` and by `npm run build`) while it is newer than every source it was built from;
// otherwise, e.g. in a checkout whose src/ was edited since, the TypeScript sources through tsx, so that
// stale code never runs. Plain JS starts about a second sooner: tsx's hooks run for every module loaded.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function distIsFresh() {
  try {
    const built = fs.statSync(`${root}dist/main.js`).mtimeMs;
    const { inputs } = JSON.parse(fs.readFileSync(`${root}dist/build-inputs.json`, 'utf8'));
    return inputs.every((input) => fs.statSync(root + input).mtimeMs <= built);
  } catch {
    return false; // not built, or a source was removed or renamed
  }
}

if (distIsFresh()) {
  await import('../dist/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
