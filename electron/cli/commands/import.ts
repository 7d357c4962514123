/**
 * `loupe import [PATH...] [--root DIR]`: imports Claude Code transcripts, Claude stream-json logs,
 * Codex rollouts and asciicast recordings (files, or folders searched for `.jsonl` and `.cast`
 * files) into runs under the root (core/transcripts/importer.ts). With no PATH it imports from the agents' homes:
 * `~/.claude/projects` and `$CODEX_HOME/sessions` (`~/.codex/sessions`).
 *
 * Prints one line per session: the agent id, then what was imported. Unreadable lines are
 * reported on stderr with their line numbers. Exit status 1 when a file could not be imported.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { checkRootFolder } from '../../core/log/paths.js';
import { UserError } from '../errors.js';

/** Unreadable lines listed per file; the rest are counted. */
const MAX_LISTED_CORRUPT_LINES = 5;

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import Claude Code transcripts, Claude stream-json logs, Codex rollouts and asciicast recordings as runs')
    .argument('[paths...]', 'files or folders (default: ~/.claude/projects and $CODEX_HOME/sessions)')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .action(async (paths: string[], options: { root: string }) => {
      checkRootFolder(options.root);
      const [{ defaultSourceHomes, importFile, sourceFiles, ImportError }, { withImportLock }, { rootClassifier }] = await Promise.all([
        import('../../core/transcripts/importer.js'),
        import('../../core/transcripts/importLock.js'),
        import('../../core/capture/classify.js'),
      ]);
      const explicit = paths.length > 0;
      const targets = explicit ? paths : defaultSourceHomes().filter((home) => fs.existsSync(home));
      for (const target of targets) {
        if (!fs.existsSync(target)) throw new UserError(`${target} does not exist; pass a transcript, rollout or .cast file, or a folder of them`);
      }
      if (targets.length === 0) {
        process.stderr.write(`loupe: nothing to import: neither ${defaultSourceHomes().join(' nor ')} exists; pass the files or folders to import\n`);
        return;
      }
      let waitReported = false;
      const reportWait = () => {
        if (!waitReported) process.stderr.write(`loupe: waiting for another import into ${options.root} to finish\n`);
        waitReported = true;
      };
      const classifier = rootClassifier(options.root);
      let failed = 0;
      for (const target of targets) {
        const files = sourceFiles(target);
        const named = files.length === 1 && files[0] === target;
        for (const file of files) {
          let result;
          try {
            result = await withImportLock(options.root, () => importFile(options.root, file, classifier), { onWait: reportWait });
          } catch (err) {
            if (!(err instanceof ImportError)) throw err;
            // In a folder, files of other kinds are passed over; a file named on the command line must import.
            if (named || !err.unrecognized) {
              process.stderr.write(`loupe: ${err.message}\n`);
              failed++;
            }
            continue;
          }
          const what =
            result.status === 'new'
              ? `imported ${result.added} entries`
              : result.status === 'continued'
                ? `continued: ${result.added} new entries (${result.total} in all)`
                : `up to date (${result.total} entries)`;
          process.stdout.write(`${result.agentId}  ${result.format} ${what} into ${result.taskId} from ${result.source}\n`);
          for (const c of result.corrupt.slice(0, MAX_LISTED_CORRUPT_LINES)) process.stderr.write(`loupe: ${file}:${c.line}: skipped: ${c.error}\n`);
          if (result.corrupt.length > MAX_LISTED_CORRUPT_LINES) {
            process.stderr.write(`loupe: ${file}: … and ${result.corrupt.length - MAX_LISTED_CORRUPT_LINES} more unreadable lines skipped\n`);
          }
        }
      }
      if (failed > 0) process.exitCode = 1;
    });
}
