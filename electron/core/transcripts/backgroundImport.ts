/**
 * Background import (issue 14): `loupe daemon`, the app and `loupe serve` keep importing the
 * sessions Claude Code and Codex write in their homes (importer.ts `defaultSourceHomes`), new
 * ones and those that grow, without anyone running `loupe import`.
 *
 * - A session goes to the root its working folder is in (the deepest, when roots nest); a
 *   session from elsewhere is left alone. A root's `loupe.config.json` turns it off with
 *   `"importTranscripts": false`.
 * - A pass is cheap when nothing changed: it lists the homes and stats each file; only a file
 *   whose size or mtime moved since the last pass is read.
 * - A file that cannot be imported is reported once, and again only if it changes and fails in
 *   a new way. Corrupt lines are reported once per file and count.
 * - Every import holds the root's import lock (importLock.ts), so this and `loupe import` never
 *   write one session at once.
 *
 * It runs in a worker thread (importThread.ts), never on the thread that converts captures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { rootClassifier, type Classifier } from '../capture/classify.js';
import { loadConfig } from '../capture/config.js';
import { isInside } from '../log/paths.js';
import { defaultSourceHomes, importFile, ImportError, sessionCwd, sourceFiles } from './importer.js';
import { ImportLockTimeout, withImportLock } from './importLock.js';

export interface BackgroundImportOptions {
  /** The roots to import into, asked on every pass (the daemon's change as captures come and go). */
  roots: () => string[];
  /** Where to look for sessions (default: the agents' homes). */
  homes?: () => string[];
  log: (message: string) => void;
}

/** What one pass did. */
export interface ImportPass {
  /** Session files stat'ed. */
  looked: number;
  /** Files read because they changed. */
  read: number;
  /** Sessions that got new entries. */
  imported: number;
}

export class BackgroundImport {
  /** Per file: its size and mtime when it was last handled (imported, skipped or failed). */
  private readonly handled = new Map<string, string>();
  /** Per file: the folder its session ran in (it never changes). */
  private readonly cwds = new Map<string, string>();
  /** Per file: the last problem reported, so each is reported once. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly options: BackgroundImportOptions) {}

  async pass(): Promise<ImportPass> {
    const stats: ImportPass = { looked: 0, read: 0, imported: 0 };
    const roots = this.enabledRoots();
    if (roots.length === 0) return stats;
    const classifiers = new Map<string, Classifier>();
    for (const home of (this.options.homes ?? defaultSourceHomes)()) {
      let files: string[];
      try {
        files = sourceFiles(home);
      } catch {
        continue; // no such home (yet)
      }
      for (const file of files) {
        stats.looked++;
        let stamp: string;
        try {
          const st = fs.statSync(file);
          stamp = `${st.size}:${st.mtimeMs}`;
        } catch {
          continue; // deleted since it was listed
        }
        if (this.handled.get(file) === stamp) continue;
        stats.read++;
        const root = this.rootOf(file, roots);
        if (root === null) {
          this.handled.set(file, stamp);
          continue;
        }
        let classifier = classifiers.get(root);
        if (classifier === undefined) classifiers.set(root, (classifier = rootClassifier(root)));
        try {
          const result = await withImportLock(root, () => importFile(root, file, classifier));
          this.handled.set(file, stamp);
          this.reported.delete(file);
          if (result.added > 0) stats.imported++;
          if (result.status === 'new') this.options.log(`imported ${result.agentId} (${result.added} entries) into ${root} from ${file}`);
          if (result.corrupt.length > 0) this.reportOnce(file, `${file}: ${result.corrupt.length} unreadable lines skipped (the first: line ${result.corrupt[0].line}, ${result.corrupt[0].error})`);
        } catch (err) {
          if (err instanceof ImportLockTimeout) continue; // not the file's fault: next pass
          this.handled.set(file, stamp);
          if (err instanceof ImportError && err.unrecognized) continue; // not a session file
          this.reportOnce(file, `cannot import ${file}: ${(err as Error).message}`);
        }
      }
    }
    return stats;
  }

  /** The roots whose config allows importing; a bad config turns its root off until it is fixed. */
  private enabledRoots(): string[] {
    const enabled: string[] = [];
    for (const root of new Set(this.options.roots().map((r) => path.resolve(r)))) {
      try {
        if (loadConfig(root).config.importTranscripts !== false) enabled.push(root);
      } catch (err) {
        this.reportOnce(root, `not importing transcripts into ${root} until its config is fixed: ${(err as Error).message}`);
      }
    }
    return enabled;
  }

  /** The deepest root that holds the session's folder, or null. */
  private rootOf(file: string, roots: string[]): string | null {
    let cwd = this.cwds.get(file);
    if (cwd === undefined) {
      const found = sessionCwd(file);
      if (found === null) return null; // the folder may be in lines not written yet: look again when it changes
      this.cwds.set(file, (cwd = found));
    }
    const holding = roots.filter((root) => isInside(root, cwd));
    return holding.sort((a, b) => b.length - a.length)[0] ?? null;
  }

  private reportOnce(key: string, message: string): void {
    if (this.reported.get(key) === message) return;
    this.reported.set(key, message);
    this.options.log(message);
  }
}
