// `npm start`: opens the desktop app. Without an Electron binary (as on machines where its
// download is blocked) it says so in one line, points at `loupe serve`, and exits 1.
//
// better-sqlite3 in node_modules is built for Node (so `npm test` works); Electron needs a build
// for its own ABI. That second copy is built once into node_modules/.cache/loupe-electron/ and
// handed to the app through LOUPE_SQLITE_BINDING (better-sqlite3's `nativeBinding` option),
// leaving the Node build untouched.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronVersion, findElectronBinary, projectDir } from './electron-binary.js';

const found = findElectronBinary();
if (found.binary === null) {
  console.error(`loupe: cannot open the desktop app: ${found.reason}. Use the web view instead: npx loupe serve`);
  process.exit(1);
}

const mainFile = path.join(projectDir, 'dist', 'electron', 'main', 'main.js');
if (!fs.existsSync(mainFile)) {
  console.error('loupe: the app is not built (dist/electron/main/main.js is missing); run `npm run build` first');
  process.exit(1);
}

/** Builds better-sqlite3 for this Electron version once; returns the .node file. */
function sqliteBindingForElectron(version) {
  const out = path.join(projectDir, 'node_modules', '.cache', 'loupe-electron', `${version}-${process.platform}-${process.arch}`, 'better_sqlite3.node');
  if (fs.existsSync(out)) return out;
  const source = path.join(projectDir, 'node_modules', 'better-sqlite3');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sqlite-electron-'));
  try {
    fs.cpSync(source, work, { recursive: true, filter: (p) => !p.startsWith(path.join(source, 'build')) });
    console.error(`loupe: building better-sqlite3 for Electron ${version} (once; this takes a minute)...`);
    const nodeGyp = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    const gyp = fs.existsSync(nodeGyp) ? [process.execPath, nodeGyp] : ['npx', 'node-gyp'];
    const built = spawnSync(
      gyp[0],
      [...gyp.slice(1), 'rebuild', '--release', '--runtime=electron', `--target=${version}`, '--dist-url=https://electronjs.org/headers'],
      { cwd: work, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' },
    );
    if (built.status !== 0) {
      console.error('loupe: could not build better-sqlite3 for Electron (see the node-gyp output above); the app opens, but search and stats need it');
      return null;
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), out);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// An explicit LOUPE_SQLITE_BINDING (a binding built elsewhere) wins over building one.
const binding = process.env.LOUPE_SQLITE_BINDING || sqliteBindingForElectron(electronVersion());
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
if (binding) env.LOUPE_SQLITE_BINDING = binding;
const child = spawn(found.binary, [projectDir, ...process.argv.slice(2)], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
