/**
 * Where the OS lets us see it (Linux /proc): is the foreground process of a pane's terminal
 * blocked reading it? That is a program waiting for input whatever its prompt says (`read`, a
 * REPL, `input()`). Node-based agents always wait in `epoll`, so this only adds to the prompt
 * rules; elsewhere (no /proc) it answers false.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The `read` syscall's number: it differs between architectures. */
const READ_SYSCALL: Record<string, number> = { x64: 0, arm64: 63, arm: 3, ia32: 3 };

/** Processes under a pane looked at, at most: an agent with hundreds of children is not reading its terminal. */
const MAX_PROCESSES = 64;

/**
 * Whether a process of the foreground process group of the terminal that `panePid` runs on is
 * blocked in `read(0)` on that terminal. The pane's own process may only be waiting for its
 * child (`sh -c` runs without job control, so the whole tree is one group): its descendants in
 * the group are looked at too.
 */
export function readsTerminal(panePid: number): boolean {
  const read = READ_SYSCALL[os.arch()];
  if (read === undefined) return false;
  const foreground = statOf(panePid)?.tpgid;
  if (foreground === undefined || foreground <= 0) return false;
  const queue = [panePid];
  for (let looked = 0; queue.length > 0 && looked < MAX_PROCESSES; looked++) {
    const pid = queue.shift()!;
    if (statOf(pid)?.pgrp === foreground && blockedReadingTty(pid, read)) return true;
    queue.push(...childrenOf(pid));
  }
  return false;
}

/** `/proc/PID/stat` is "pid (comm) state ppid pgrp session tty_nr tpgid …"; comm may hold spaces and parens. */
function statOf(pid: number): { pgrp: number; tpgid: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(fields[2]), tpgid: Number(fields[5]) };
  } catch {
    return null; // gone, or no /proc
  }
}

function blockedReadingTty(pid: number, read: number): boolean {
  try {
    const [nr, fd] = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
    if (Number(nr) !== read || Number(fd) !== 0) return false;
    return /^\/dev\/(pts\/\d+|tty)/.test(fs.readlinkSync(`/proc/${pid}/fd/0`));
  } catch {
    return false; // gone, or not ours to look at
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}
