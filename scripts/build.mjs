// Compiles the TypeScript of the CLI and server (src/, demo/) into plain ES modules in dist/, so that
// `npm start` and the bin run without a TypeScript loader: tsx's resolve/load hooks run on a loader
// thread for every module, node_modules included, and were most of the start time (issue 15).
// Runs at install (`prepare`) and with `npm run build`. bin/data-pipeline.js runs dist/ only while it is
// newer than every source file it was built from (dist/build-inputs.json), else the sources through tsx,
// so an edited checkout never runs stale code.
// Usage: node scripts/build.mjs [--quiet]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = path.join(ROOT, 'dist');
const quiet = process.argv.includes('--quiet');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // esbuild comes with tsx (a dependency); without it the bin runs the sources through tsx.
  console.warn('data-pipeline build: esbuild not found, dist/ not built (the bin will run src/ through tsx)');
  process.exit(0);
}

/**
 * The sources find files beside themselves (web/, node_modules/.cache, package manifests) through
 * import.meta.url. In dist/ every module sits one folder below the project, so each source's own URL is
 * put back: `new URL('../src/http/server.ts', import.meta.url)` is that source file's URL again.
 */
const sourceUrl = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromDist = path.relative(OUT_DIR, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

const staging = `${OUT_DIR}.tmp-${process.pid}`;
fs.rmSync(staging, { recursive: true, force: true });
const started = performance.now();
const result = await esbuild.build({
  entryPoints: { main: path.join(ROOT, 'src/main.ts') },
  outdir: staging,
  bundle: true,
  // Dependencies stay in node_modules (WASM, native addons and their own relative files).
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Every `await import()` of the sources stays lazy: a chunk loads when the code asks for it.
  splitting: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [sourceUrl],
});
const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
fs.writeFileSync(path.join(staging, 'build-inputs.json'), JSON.stringify({ built_at: new Date().toISOString(), inputs: inputs.map((input) => path.relative(ROOT, path.resolve(input))) }, null, 1));
fs.writeFileSync(path.join(staging, 'package.json'), '{ "type": "module" }\n');
// Swap in whole: a process starting meanwhile sees the old dist/ or the new one, never half of each.
const old = `${OUT_DIR}.old-${process.pid}`;
if (fs.existsSync(OUT_DIR)) fs.renameSync(OUT_DIR, old);
fs.renameSync(staging, OUT_DIR);
fs.rmSync(old, { recursive: true, force: true });
if (!quiet) console.log(`data-pipeline build: ${inputs.length} sources → dist/ in ${Math.round(performance.now() - started)} ms`);
