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
      const [{ rebuildIndex }, { indexPath }, { makeKeyframesInWorker }, { KeyframeStore }, { listAgentLogs }] = await Promise.all([
        import('../../core/index/indexer.js'),
        import('../../core/index/schema.js'),
        import('../../core/replay/keyframeThread.js'),
        import('../../core/replay/keyframes.js'),
        import('../../core/log/paths.js'),
      ]);
      // Keyframes too, so the first seek into any run is as fast as later ones. They read only
      // the JSONL (a cache beside the index: kept where they still match their log, extended past
      // the last one), so a worker makes them on the other core while this thread indexes.
      const started = performance.now();
      const logs = listAgentLogs(options.root);
      const keyframes = makeKeyframesInWorker(logs);
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
      const failed = await keyframes;
      const keyframeBytes = logs.reduce((sum, log) => sum + KeyframeStore.forLog(log).sizeOnDisk(), 0);
      process.stderr.write(
        `keyframes of ${logs.length} agents: ${(keyframeBytes / 1e6).toFixed(1)} MB, ready ${((performance.now() - started) / 1000).toFixed(2)} s after the start\n`,
      );
      for (const f of failed) process.stderr.write(`  no keyframes for ${f.file}: ${f.message}\n`);
      for (const c of stats.corruptLines.slice(0, MAX_LISTED_CORRUPT_LINES)) process.stderr.write(`  ${c.file}:${c.line}: ${c.error}\n`);
      if (stats.corruptLineCount > MAX_LISTED_CORRUPT_LINES) {
        process.stderr.write(`  … and ${stats.corruptLineCount - MAX_LISTED_CORRUPT_LINES} more\n`);
      }
    });
}
