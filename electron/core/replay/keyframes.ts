/**
 * The keyframe cache of a run: serialized terminal states at intervals through the run, so a seek
 * restores the nearest one and replays only the output after it (SPEC §7).
 *
 * Stored beside the index, under `<root>/.agent-workspace/.loupe-cache/keyframes/<task>/<agent>/`:
 *   - `states.bin`: the states, each deflated, appended one after another;
 *   - `keyframes.jsonl`: one line per keyframe (where it is in the run, and where its state is).
 * Both are append-only; a keyframe's line is written after its state, so a crash leaves at worst a
 * state without a line. It is a cache: deleting the folder loses nothing, and a keyframe that no
 * longer matches its log (rotated, replaced) is detected on use and the cache is rebuilt.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { checkAgentId, checkTaskId } from '../../../shared/entry.js';
import { workspaceDir, type AgentLog } from '../log/paths.js';
import type { RunPosition } from './run-log.js';

/** The cache's folder under `.agent-workspace/`; not a task folder, so listings skip it. */
export const CACHE_DIR = '.loupe-cache';
/** Bumped when the state format changes; older caches are ignored and rebuilt. */
export const KEYFRAME_FORMAT = 2;
/**
 * A keyframe every this many bytes of terminal output. A seek replays at most this much after
 * its keyframe. At 256 KiB, a 1 GB run's seeks took p50 62 ms and p99 132 ms on an idle core
 * (bench/replay.bench.js, 2026-12-02): replaying costs about 0.4 ms per KiB, over a fixed 40 ms.
 * At 64 KiB the worst case is a quarter of that. A keyframe costs ~1 KiB deflated (200 lines of
 * scrollback), so a 1 GB run needs about 4 MB, 0.4 % of its log (the bench measures both).
 */
export const KEYFRAME_INTERVAL_BYTES = 64 * 1024;

/** One keyframe: the terminal after the entry `seq`. */
export interface Keyframe {
  format: number;
  /** The last entry included. */
  seq: number;
  /** Its time, microseconds since the epoch. */
  time: number;
  /** Terminal bytes of the run up to here. */
  streamBytes: number;
  cols: number;
  rows: number;
  /** Where the entry after `seq` starts. */
  next: RunPosition;
  /** The deflated state's place in `states.bin`. */
  dataOffset: number;
  dataLength: number;
  /** CRC-32 of the deflated state: two processes appending at once could mix up offsets. */
  dataCrc: number;
}

/** The keyframe folder of an agent's run. */
export function keyframeDir(log: AgentLog): string {
  return path.join(workspaceDir(log.root), CACHE_DIR, 'keyframes', checkTaskId(log.taskId), checkAgentId(log.agentId));
}

export class KeyframeStore {
  readonly dir: string;
  private frames: Keyframe[] | null = null;
  /** Set after a write fails (read-only root, disk full): the cache is then read-only. */
  private writeFailed = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  static forLog(log: AgentLog): KeyframeStore {
    return new KeyframeStore(keyframeDir(log));
  }

  private get indexFile(): string {
    return path.join(this.dir, 'keyframes.jsonl');
  }

  private get dataFile(): string {
    return path.join(this.dir, 'states.bin');
  }

  /** Every keyframe, by sequence. Unreadable lines (a torn write) are skipped. */
  list(): Keyframe[] {
    if (this.frames !== null) return this.frames;
    let text = '';
    try {
      text = fs.readFileSync(this.indexFile, 'utf8');
    } catch {
      // No cache yet.
    }
    const bySeq = new Map<number, Keyframe>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const k = JSON.parse(line) as Keyframe;
        if (k.format === KEYFRAME_FORMAT && Number.isSafeInteger(k.seq)) bySeq.set(k.seq, k);
      } catch {
        // A torn last line: ignore it.
      }
    }
    this.frames = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    return this.frames;
  }

  /** The last keyframe at or before a point, chosen by `isBefore`. */
  nearest(isBefore: (k: Keyframe) => boolean): Keyframe | null {
    const frames = this.list();
    let lo = 0;
    let hi = frames.length - 1;
    let found: Keyframe | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (isBefore(frames[mid])) {
        found = frames[mid];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The serialized terminal state of a keyframe, or null when it cannot be read. */
  readState(k: Keyframe): string | null {
    let fd: number;
    try {
      fd = fs.openSync(this.dataFile, 'r');
    } catch {
      return null;
    }
    try {
      const buf = Buffer.allocUnsafe(k.dataLength);
      const read = fs.readSync(fd, buf, 0, k.dataLength, k.dataOffset);
      if (read !== k.dataLength || zlib.crc32(buf) !== k.dataCrc) return null;
      return zlib.inflateRawSync(buf).toString('utf8');
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Appends a keyframe after the last one. Failures only turn the cache read-only. */
  add(frame: Omit<Keyframe, 'format' | 'dataOffset' | 'dataLength' | 'dataCrc'>, state: string): void {
    if (this.writeFailed) return;
    const last = this.list().at(-1);
    if (last !== undefined && frame.seq <= last.seq) return;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      // Level 1: states are mostly spaces and repeated escape sequences, and compress ~10x even so.
      const data = zlib.deflateRawSync(Buffer.from(state, 'utf8'), { level: 1 });
      const fd = fs.openSync(this.dataFile, 'a');
      let dataOffset: number;
      try {
        dataOffset = fs.fstatSync(fd).size;
        fs.writeSync(fd, data);
      } finally {
        fs.closeSync(fd);
      }
      const k: Keyframe = { format: KEYFRAME_FORMAT, ...frame, dataOffset, dataLength: data.length, dataCrc: zlib.crc32(data) };
      fs.appendFileSync(this.indexFile, JSON.stringify(k) + '\n');
      this.list().push(k);
    } catch {
      this.writeFailed = true;
    }
  }

  /** Deletes the cache (it no longer matches its log). */
  clear(): void {
    this.frames = [];
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Bytes the cache takes on disk. */
  sizeOnDisk(): number {
    let total = 0;
    for (const f of [this.indexFile, this.dataFile]) {
      try {
        total += fs.statSync(f).size;
      } catch {
        // Missing: nothing stored.
      }
    }
    return total;
  }
}
