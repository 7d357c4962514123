/**
 * Background import (issue 14): `loupe daemon`, the app and `loupe serve` keep importing the
 * sessions Claude Code and Codex write in their homes (importer.ts `defaultSourceHomes`), new
 * ones and those that grow, without anyone running `loupe import`.
 *
 * - A session goes to the root its working folder is in (the deepest, when roots nest); a
 *   session from elsewhere is left alone. A root's `loupe.config.json` turns it off with
 *   `"importTranscripts": false`.
 * - A pass is cheap when nothing changed: a folder is listed again only when its mtime moved,
 *   a session file is stat'ed on every pass while it is recent and every QUIET_EVERY passes once
 *   it has been quiet for QUIET_AFTER_MS, and only a file whose size or mtime moved is read.
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
import { isInside, WORKSPACE_DIR } from '../log/paths.js';
import { defaultSourceHomes, importFile, ImportError, isSourceName, sessionCwd } from './importer.js';
import { ImportLockTimeout, withImportLock } from './importLock.js';

/** How long background import steps aside after a file when `loupe import` waits for the lock (it retries every 50 ms). */
const YIELD_MS = 200;
/**
 * A growing session is imported again at most once per this many times what its last import
 * took (each import parses the whole session), so a huge live transcript costs at most about
 * 1/20 of a core, however often it grows.
 */
const REIMPORT_COST_FACTOR = 20;
/** A session file untouched this long is stat'ed less often: agents rarely go back to old sessions. */
const QUIET_AFTER_MS = 60 * 60 * 1000;
/** A quiet file is stat'ed every this many passes (a minute at the default 5 s). */
const QUIET_EVERY = 12;

export interface BackgroundImportOptions {
  /** The roots to import into, asked on every pass (the daemon's change as captures come and go). */
  roots: () => string[];
  /** Where to look for sessions (default: the agents' homes). */
  homes?: () => string[];
  log: (message: string) => void;
  /** The clock, in ms (tests). */
  now?: () => number;
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
  /** Per file: its mtime when last stat'ed. */
  private readonly mtimes = new Map<string, number>();
  private readonly folders = new FolderListing();
  /** Files passed over because no root held their folder: looked at again when the roots change. */
  private readonly outside = new Set<string>();
  /** Per file: when it may be imported again (REIMPORT_COST_FACTOR). */
  private readonly notBefore = new Map<string, number>();
  private rootsKey = '';
  private passes = 0;

  constructor(private readonly options: BackgroundImportOptions) {}

  async pass(): Promise<ImportPass> {
    const stats: ImportPass = { looked: 0, read: 0, imported: 0 };
    const roots = this.enabledRoots();
    const rootsKey = roots.join('\0');
    if (rootsKey !== this.rootsKey) {
      for (const file of this.outside) this.handled.delete(file);
      this.outside.clear();
      this.rootsKey = rootsKey;
    }
    if (roots.length === 0) return stats;
    const classifiers = new Map<string, Classifier>();
    const pass = this.passes++;
    const now = this.options.now ?? Date.now;
    const quietBefore = now() - QUIET_AFTER_MS;
    for (const home of (this.options.homes ?? defaultSourceHomes)()) {
      for (const [i, file] of this.folders.files(home).entries()) {
        const mtime = this.mtimes.get(file);
        if (mtime !== undefined && mtime < quietBefore && (i + pass) % QUIET_EVERY !== 0) continue;
        stats.looked++;
        let stamp: string;
        try {
          const st = fs.statSync(file);
          stamp = `${st.size}:${st.mtimeMs}`;
          this.mtimes.set(file, st.mtimeMs);
        } catch {
          continue; // deleted since it was listed
        }
        if (this.handled.get(file) === stamp || (this.notBefore.get(file) ?? 0) > now()) continue;
        stats.read++;
        const root = this.rootOf(file, roots);
        if (root === null) {
          this.handled.set(file, stamp);
          this.outside.add(file);
          continue;
        }
        let classifier = classifiers.get(root);
        if (classifier === undefined) classifiers.set(root, (classifier = rootClassifier(root)));
        try {
          const result = await withImportLock(
            root,
            () => {
              const started = now();
              const imported = importFile(root, file, classifier);
              const ended = now();
              this.notBefore.set(file, ended + (ended - started) * REIMPORT_COST_FACTOR);
              return imported;
            },
            { yieldMs: YIELD_MS },
          );
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

/** The session files under a folder, sorted; a folder is read again only when its mtime moved. */
class FolderListing {
  private readonly folders = new Map<string, { mtimeMs: number; files: string[]; subfolders: string[] }>();

  files(folder: string): string[] {
    let st: fs.Stats;
    try {
      st = fs.statSync(folder);
    } catch {
      this.folders.delete(folder);
      return []; // no such folder (yet)
    }
    let known = this.folders.get(folder);
    if (known === undefined || known.mtimeMs !== st.mtimeMs) {
      known = { mtimeMs: st.mtimeMs, files: [], subfolders: [] };
      try {
        for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
          const full = path.join(folder, entry.name);
          // Loupe's own logs and archived copies are not sources.
          if (entry.isDirectory() && entry.name !== WORKSPACE_DIR) known.subfolders.push(full);
          else if (entry.isFile() && isSourceName(entry.name)) known.files.push(full);
        }
      } catch {
        // unreadable now: empty until it changes
      }
      known.files.sort();
      known.subfolders.sort();
      this.folders.set(folder, known);
    }
    return [...known.files, ...known.subfolders.flatMap((sub) => this.files(sub))];
  }
}
