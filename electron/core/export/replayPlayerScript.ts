/**
 * The script of a `replay-html` file: it runs in the recipient's browser, offline, under a CSP
 * that allows only the page's own inline scripts (by hash). It is kept as text here because it is
 * inlined into every export, never loaded as a module.
 *
 * It decodes the embedded run (base64 of gzipped JSON lines: a title line, then per agent an
 * `{"agent":…}` line followed by `[ms, "o"|"r"|"m", data]` events, then a `{"redaction":…}` line),
 * and drives an xterm.js terminal at the recorded size with a scrubber, play/pause, speed, error
 * markers and an agent picker. Untrusted text reaches the page only through `textContent` and
 * `terminal.write`; links in the output do nothing, and input is never read.
 */
import { MONO_FONT_FAMILY } from '../../../shared/fonts.js';

export const REPLAY_PLAYER_SCRIPT = String.raw`(() => {
'use strict';
/** Output gaps longer than this play as this long, so a run that idled for an hour still plays. */
const IDLE_CAP_MS = 2000;
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16, 32];
/** The same scrollback as Loupe's replay terminal, so lines reflow the same way on a resize. */
const SCROLLBACK_LINES = 1000;
/** Going back in time restores a keyframe taken every this much output, then replays the rest. */
const KEYFRAME_INTERVAL_CHARS = 512 * 1024;
const $ = (id) => document.getElementById(id);
const info = (text) => { $('info').textContent = text; };

async function loadRun() {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error('this browser cannot decompress it; open it in Chrome 80+, Firefox 113+ or Safari 16.4+');
  }
  const b64 = $('loupe-run').textContent.replace(/\s+/g, '');
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const text = await new Response(stream).text();
  const run = { title: '', agents: [], redaction: '' };
  let agent = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const value = JSON.parse(line);
    if (Array.isArray(value)) agent.events.push(value);
    else if (typeof value.agent === 'string') { agent = { ...value, events: [] }; run.agents.push(agent); }
    else if (typeof value.title === 'string') run.title = value.title;
    else if (typeof value.redaction === 'string') run.redaction = value.redaction;
  }
  return run;
}

function formatTime(ms) {
  const s = Math.max(0, ms) / 1000;
  const m = Math.floor(s / 60);
  return (m > 0 ? m + ':' + String(Math.floor(s % 60)).padStart(2, '0') : Math.floor(s % 60)) + '.' + Math.floor((s * 10) % 10) + 's';
}

class Player {
  constructor(agent) {
    this.agent = agent;
    this.events = agent.events;
    this.duration = this.events.length > 0 ? this.events[this.events.length - 1][0] : 0;
    this.applied = 0;
    this.clock = 0;
    this.playing = false;
    this.pendingWrites = 0;
    this.terminal = null;
    this.serializer = null;
    /** Terminal states at points of the run, made while playing forward: { index, cols, rows, state }. */
    this.keyframes = [];
    this.keyframedUpTo = 0;
    this.sinceKeyframe = 0;
    this.createTerminal();
  }

  createTerminal() {
    if (this.terminal !== null) this.terminal.dispose();
    const host = $('terminal');
    host.textContent = '';
    this.terminal = new Terminal({
      cols: this.agent.cols, rows: this.agent.rows, scrollback: SCROLLBACK_LINES, disableStdin: true, cursorBlink: false,
      allowProposedApi: true, fontSize: 13, lineHeight: 1.15,
      fontFamily: ${JSON.stringify(MONO_FONT_FAMILY)},
      linkHandler: { activate() {} },
      theme: { background: '#1e1e1e', foreground: '#d4d4d4', cursor: '#aeafad' },
    });
    if (typeof Unicode11Addon !== 'undefined') {
      this.terminal.loadAddon(new Unicode11Addon.Unicode11Addon());
      this.terminal.unicode.activeVersion = '11';
    }
    if (typeof SerializeAddon !== 'undefined') {
      this.serializer = new SerializeAddon.SerializeAddon();
      this.terminal.loadAddon(this.serializer);
    }
    this.terminal.open(host);
  }

  /** The number of events at or before time t. */
  countAt(t) {
    let lo = 0, hi = this.events.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.events[mid][0] <= t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  seek(t) {
    this.clock = Math.max(0, Math.min(t, this.duration));
    this.applyUpTo(this.countAt(this.clock));
  }

  /**
   * Brings the terminal to the state after 'target' events. Everything goes through xterm's
   * write queue (resets and resizes too, as callbacks), so it happens in order even while earlier
   * output is still being parsed. Going back restores the nearest keyframe before the target.
   */
  applyUpTo(target) {
    if (target < this.applied) {
      let keyframe = null;
      for (const k of this.keyframes) if (k.index <= target && (keyframe === null || k.index > keyframe.index)) keyframe = k;
      const cols = keyframe !== null ? keyframe.cols : this.agent.cols;
      const rows = keyframe !== null ? keyframe.rows : this.agent.rows;
      this.write('', () => { this.terminal.reset(); this.terminal.resize(cols, rows); });
      if (keyframe !== null) this.write(keyframe.state);
      this.applied = keyframe !== null ? keyframe.index : 0;
      this.sinceKeyframe = 0;
    }
    let chunk = '';
    for (let i = this.applied; i < target; i++) {
      const [, type, data] = this.events[i];
      if (type === 'o') {
        chunk += data;
        this.sinceKeyframe += data.length;
      } else if (type === 'r') {
        const [cols, rows] = String(data).split('x').map(Number);
        if (cols > 0 && rows > 0) this.write(chunk, () => this.terminal.resize(cols, rows));
        chunk = '';
      }
      if (this.sinceKeyframe >= KEYFRAME_INTERVAL_CHARS && i + 1 > this.keyframedUpTo) {
        const index = i + 1;
        this.write(chunk, () => this.keyframe(index));
        chunk = '';
        this.sinceKeyframe = 0;
        this.keyframedUpTo = index;
      }
    }
    if (chunk !== '') this.write(chunk);
    this.applied = target;
    this.render();
  }

  /** Called from the write queue right after event 'index - 1' was parsed. */
  keyframe(index) {
    const state = globalThis.LoupeTerminalState;
    if (state === undefined || !state.canKeyframe(this.terminal)) return;
    this.keyframes.push({
      index, cols: this.terminal.cols, rows: this.terminal.rows,
      state: state.serializeTerminalState(this.terminal, this.serializer, SCROLLBACK_LINES),
    });
    document.body.dataset.keyframes = String(this.keyframes.length);
  }

  write(data, then) {
    this.pendingWrites++;
    document.body.dataset.settled = 'false';
    this.terminal.write(data, () => {
      if (then !== undefined) then();
      if (--this.pendingWrites === 0) document.body.dataset.settled = 'true';
    });
  }

  /**
   * One step back or forward: to the previous or next moment that has events. Events that share
   * a moment (an entry's output and its error marker) go together, so a step always changes time.
   */
  step(direction) {
    if (direction < 0) {
      if (this.applied === 0) return;
      const t = this.events[this.applied - 1][0];
      let target = this.applied - 1;
      while (target > 0 && this.events[target - 1][0] === t) target--;
      this.clock = target > 0 ? this.events[target - 1][0] : 0;
      this.applyUpTo(target);
    } else {
      if (this.applied >= this.events.length) return;
      this.clock = this.events[this.applied][0];
      this.applyUpTo(this.countAt(this.clock));
    }
  }

  play() {
    if (this.clock >= this.duration) this.seek(0);
    this.playing = true;
    let last = performance.now();
    const tick = (now) => {
      if (!this.playing) return;
      let next = this.clock + (now - last) * Number($('speed').value);
      last = now;
      const upcoming = this.events[this.applied];
      if (upcoming !== undefined && upcoming[0] - this.clock > IDLE_CAP_MS) next = Math.max(next, upcoming[0] - IDLE_CAP_MS);
      this.seek(next);
      if (this.clock >= this.duration) this.pause();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    this.render();
  }

  pause() {
    this.playing = false;
    this.render();
  }

  render() {
    const scrub = $('scrub');
    scrub.max = String(Math.max(this.duration, 1));
    scrub.value = String(this.clock);
    $('time').textContent = formatTime(this.clock) + ' / ' + formatTime(this.duration);
    $('play').textContent = this.playing ? 'Pause' : 'Play';
    document.body.dataset.position = String(this.applied);
    document.body.dataset.keyframes = String(this.keyframes.length);
    document.body.dataset.events = String(this.events.length);
  }

  showMarkers() {
    const markers = $('markers');
    markers.textContent = '';
    for (const [t, type, label] of this.events) {
      if (type !== 'm') continue;
      const mark = document.createElement('button');
      mark.className = 'marker';
      mark.title = formatTime(t) + '  ' + label;
      mark.style.left = (this.duration > 0 ? (t / this.duration) * 100 : 0) + '%';
      mark.addEventListener('click', () => { this.pause(); this.seek(t); });
      markers.appendChild(mark);
    }
  }

  dispose() {
    this.playing = false;
    this.terminal.dispose();
  }
}

async function main() {
  let run;
  try {
    run = await loadRun();
  } catch (err) {
    info('This replay could not be read: ' + err.message);
    document.body.dataset.state = 'error';
    return;
  }
  $('title').textContent = run.title;
  $('redaction').textContent = 'Redaction: ' + run.redaction;
  const picker = $('agent');
  for (const [i, agent] of run.agents.entries()) {
    const option = document.createElement('option');
    option.value = String(i);
    const errors = agent.events.filter((e) => e[1] === 'm').length;
    option.textContent = agent.agent + (errors > 0 ? '  (' + errors + (errors === 1 ? ' error)' : ' errors)') : '');
    picker.appendChild(option);
  }
  picker.hidden = run.agents.length < 2;
  for (const speed of SPEEDS) {
    const option = document.createElement('option');
    option.value = String(speed);
    option.textContent = speed + 'x';
    option.selected = speed === 1;
    $('speed').appendChild(option);
  }

  let player = null;
  const open = (index) => {
    if (player !== null) player.dispose();
    const agent = run.agents[index];
    if (agent === undefined) { info('This export holds no output.'); return; }
    player = new Player(agent);
    player.showMarkers();
    info(agent.agent + ' · ' + agent.task + ' · ' + agent.cols + 'x' + agent.rows + ' · ' + agent.events.length + ' events');
    // Open at the end: a shared run is usually about how it ended.
    player.seek(player.duration);
  };
  picker.addEventListener('change', () => open(Number(picker.value)));
  $('play').addEventListener('click', () => (player.playing ? player.pause() : player.play()));
  // Dragging fires many input events; seek once per frame, to where the thumb is by then.
  let scrubFrame = 0;
  $('scrub').addEventListener('input', () => {
    player.pause();
    if (scrubFrame === 0) scrubFrame = requestAnimationFrame(() => { scrubFrame = 0; player.seek(Number($('scrub').value)); });
  });
  $('back').addEventListener('click', () => { player.pause(); player.step(-1); });
  $('forward').addEventListener('click', () => { player.pause(); player.step(1); });
  document.addEventListener('keydown', (event) => {
    if (player === null || event.target instanceof HTMLSelectElement) return;
    // The scrubber would also move itself by one millisecond on these keys: the player handles them.
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) event.preventDefault();
    if (event.key === ' ') { event.preventDefault(); player.playing ? player.pause() : player.play(); }
    else if (event.key === 'ArrowLeft') { player.pause(); player.step(-1); }
    else if (event.key === 'ArrowRight') { player.pause(); player.step(1); }
    else if (event.key === 'Home') { player.pause(); player.seek(0); }
    else if (event.key === 'End') { player.pause(); player.seek(player.duration); }
  });
  open(0);
  document.body.dataset.state = 'ready';
}

main();
})();
`;
