/**
 * `loupe reindex [--root DIR]`: deletes the root's index and rebuilds it from the JSONL, then
 * makes every run's replay keyframes, with progress on stderr and a summary at the end
 * (RELIABILITY D4).
 */
import type { Command } from 'commander';
import { checkRoot } from './search.js';

/** Progress lines on a terminal are redrawn at most this often. */
const PROGRESS_INTERVAL_MS = 200;
/** Corrupt lines listed in the summary; the rest are counted. */
const MAX_LISTED_CORRUPT_LINES = 20;

export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description("rebuild a root's search index from its logs")
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .action(async (options: { root: string }) => {
      checkRoot(options.root);
      const [{ rebuildIndex }, { indexPath }, { updateKeyframes }, { KeyframeStore }] = await Promise.all([
        import('../../core/index/indexer.js'),
        import('../../core/index/schema.js'),
        import('../../core/replay/seek.js'),
        import('../../core/replay/keyframes.js'),
      ]);
      const tty = process.stderr.isTTY === true;
      let lastShown = 0;
      let lastFile = '';
      const { indexer, stats } = rebuildIndex(options.root, {
        onProgress: ({ file, bytesDone, bytesTotal }) => {
          const now = performance.now();
          const newFile = file !== lastFile;
          if (!newFile && now - lastShown < PROGRESS_INTERVAL_MS && bytesDone < bytesTotal) return;
          lastShown = now;
          lastFile = file;
          const line = `indexing ${file}: ${Math.floor((100 * bytesDone) / Math.max(1, bytesTotal))}% of ${(bytesTotal / 1e6).toFixed(1)} MB`;
          if (tty) process.stderr.write(`\r\u001b[K${line}`);
          else if (newFile || bytesDone >= bytesTotal) process.stderr.write(`${line}\n`);
        },
      });
      indexer.dispose();
      if (tty) process.stderr.write('\r\u001b[K');
      const seconds = stats.elapsedMs / 1000;
      process.stderr.write(
        `reindexed ${indexPath(options.root)}: ${stats.entries} entries from ${stats.files} files ` +
          `(${(stats.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(2)} s (${(stats.bytes / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)} MB/s)` +
          `${stats.corruptLineCount > 0 ? `; ${stats.corruptLineCount} corrupt lines skipped` : ''}\n`,
      );
      // Keyframes too, so the first seek into any run is as fast as later ones (they are a cache
      // beside the index: kept where they still match their log, extended past the last one).
      const keyframesStarted = performance.now();
      let keyframeBytes = 0;
      for (const log of stats.changedAgents) {
        if (tty) process.stderr.write(`\r\u001b[Kkeyframes of ${log.file}`);
        await updateKeyframes(log);
        keyframeBytes += KeyframeStore.forLog(log).sizeOnDisk();
      }
      if (tty) process.stderr.write('\r\u001b[K');
      process.stderr.write(
        `keyframes of ${stats.changedAgents.length} agents: ${(keyframeBytes / 1e6).toFixed(1)} MB, in ${((performance.now() - keyframesStarted) / 1000).toFixed(2)} s\n`,
      );
      for (const c of stats.corruptLines.slice(0, MAX_LISTED_CORRUPT_LINES)) process.stderr.write(`  ${c.file}:${c.line}: ${c.error}\n`);
      if (stats.corruptLineCount > MAX_LISTED_CORRUPT_LINES) {
        process.stderr.write(`  … and ${stats.corruptLineCount - MAX_LISTED_CORRUPT_LINES} more\n`);
      }
    });
}
