// Bundles src/ into dist/ with esbuild, copies the static pages, and copies
// the API reference renderer (swagger-ui-dist) into dist/api-docs/.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['es2020'],
  outfile: 'dist/app.js',
  logLevel: 'warning',
});
cpSync('public', 'dist', { recursive: true });
const swagger = path.dirname(require.resolve('swagger-ui-dist/package.json'));
mkdirSync('dist/api-docs', { recursive: true });
for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css']) copyFileSync(path.join(swagger, f), path.join('dist/api-docs', f));
