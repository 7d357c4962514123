/**
 * Where a worker thread's module is. Next to the module that starts it in the build; when that
 * module runs from the TypeScript sources (the unit tests), the build's copy (`npm test` builds
 * first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled worker `name` (e.g. `indexWorker.js`) beside the module at `fromUrl` (its `import.meta.url`). */
export function workerModule(fromUrl: string, name: string): URL {
  const here = fileURLToPath(fromUrl);
  if (here.endsWith('.js')) return new URL(`./${name}`, fromUrl);
  const repo = path.resolve(path.dirname(here), '../../..');
  const built = path.join(repo, 'dist', path.relative(repo, path.dirname(here)), name);
  if (!fs.existsSync(built)) throw new Error(`the worker ${name} is not built (${built}); run \`npm run build\``);
  return new URL(`file://${built}`);
}
