/**
 * Files shipped in resources/ (the capture helper, the demo scripts) that programs other than
 * Node run — /bin/sh, started by tmux — so they must be real files on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The path of `resources/<relative>`, from the compiled module (dist/electron/core/capture) or
 * the sources (under vitest), outside any asar archive.
 */
export function resourcePath(relative: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../../../../resources', relative), // dist/electron/core/capture → repo or app root
    path.resolve(here, '../../../resources', relative), // electron/core/capture (sources)
  ];
  return outsideAsar(candidates.find((p) => fs.existsSync(p)) ?? candidates[0]);
}

/**
 * In the packaged app this module lives in `app.asar`, which only Electron can read; /bin/sh
 * needs the copies electron-builder unpacks (`asarUnpack`) into `app.asar.unpacked`.
 */
export function outsideAsar(file: string): string {
  return file.replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
}
