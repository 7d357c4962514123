#!/usr/bin/env node
// The `loupe` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/electron/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('loupe: the CLI is not built yet; run `npm install` (or `npm run build`) in the Loupe folder first');
  process.exit(2);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv);
