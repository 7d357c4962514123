// Finds the Electron binary without `require('electron')`, which in Electron 45 tries to
// download the binary when it is missing (SPEC §2). Used by `npm start` and the Electron e2e spec.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The executable's path inside an Electron dist folder, per platform (as electron's index.js has it). */
function executableIn(distDir) {
  if (process.platform === 'darwin') return path.join(distDir, 'Electron.app', 'Contents', 'MacOS', 'Electron');
  if (process.platform === 'win32') return path.join(distDir, 'electron.exe');
  return path.join(distDir, 'electron');
}

/**
 * @returns {{ binary: string } | { binary: null, reason: string }} the Electron executable, or why there is none
 */
export function findElectronBinary() {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const binary = executableIn(override);
    return fs.existsSync(binary)
      ? { binary }
      : { binary: null, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${binary} does not exist` };
  }
  const electronDir = path.join(projectDir, 'node_modules', 'electron');
  const pathFile = path.join(electronDir, 'path.txt');
  if (!fs.existsSync(pathFile)) {
    return { binary: null, reason: 'no Electron binary is installed (node_modules/electron/path.txt is missing; its download was skipped or failed)' };
  }
  const binary = path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(binary)
    ? { binary }
    : { binary: null, reason: `the Electron binary ${binary} named by node_modules/electron/path.txt is missing` };
}

/** The installed Electron version (from its package.json; reading it downloads nothing). */
export function electronVersion() {
  return JSON.parse(fs.readFileSync(path.join(projectDir, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
}

export { projectDir };
