/** `--root DIR`, checked the same way by every command: a usage error (status 2) names what is wrong. */
import fs from 'node:fs';
import { UserError } from './errors.js';

/** Throws a UserError unless `root` is an existing folder. */
export function checkRootFolder(root: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new UserError(`--root ${root} does not exist; pass the folder that holds .agent-workspace/`);
  }
  if (!stat.isDirectory()) throw new UserError(`--root ${root} is a file, not a folder; pass the folder that holds .agent-workspace/`);
}
