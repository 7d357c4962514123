// Draws the app icon (resources/icon.png, 512×512): a dark rounded square with a loupe — a ring
// and a handle — over three terminal lines. Plain zlib + PNG chunks, so it needs no image library.
// electron-builder derives the .icns and .ico from this PNG. Run: node scripts/make-icon.js
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { projectDir } from './electron-binary.js';

const SIZE = 512;
const px = Buffer.alloc(SIZE * SIZE * 4);

function blend(x, y, [r, g, b], alpha) {
  if (x < 0 || y < 0 || x >= SIZE || y >= SIZE || alpha <= 0) return;
  const i = (y * SIZE + x) * 4;
  const a = Math.min(1, alpha);
  px[i] = Math.round(px[i] * (1 - a) + r * a);
  px[i + 1] = Math.round(px[i + 1] * (1 - a) + g * a);
  px[i + 2] = Math.round(px[i + 2] * (1 - a) + b * a);
  px[i + 3] = Math.max(px[i + 3], Math.round(255 * a));
}

/** Coverage of a pixel by a shape given its signed distance (negative inside), anti-aliased over one pixel. */
const cover = (d) => Math.max(0, Math.min(1, 0.5 - d));

for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const cx = x + 0.5;
    const cy = y + 0.5;
    // Background: rounded square.
    const m = 24, rad = 96;
    const qx = Math.max(m + rad - cx, 0, cx - (SIZE - m - rad));
    const qy = Math.max(m + rad - cy, 0, cy - (SIZE - m - rad));
    blend(x, y, [30, 34, 42], cover(Math.hypot(qx, qy) - rad));
    // Terminal lines (green prompt, grey output, red error).
    const lines = [[120, 150, 300, [80, 200, 120]], [120, 200, 250, [170, 176, 190]], [120, 250, 330, [235, 90, 90]]];
    for (const [x0, ly, x1, color] of lines) {
      const dx = Math.max(x0 - cx, 0, cx - x1);
      blend(x, y, color, cover(Math.hypot(dx, cy - ly) - 9));
    }
    // Loupe: ring and handle.
    const ring = Math.abs(Math.hypot(cx - 290, cy - 290) - 100) - 18;
    blend(x, y, [230, 200, 90], cover(ring));
    // Handle: the diagonal segment (365,365)-(450,450); t is the pixel's projection onto it.
    const t = Math.max(0, Math.min(1, (cx - 365 + (cy - 365)) / (2 * 85)));
    const hx = 365 + t * 85, hy = 365 + t * 85;
    blend(x, y, [230, 200, 90], cover(Math.hypot(cx - hx, cy - hy) - 24));
  }
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header[8] = 8; // bit depth
header[9] = 6; // RGBA
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) px.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(projectDir, 'resources', 'icon.png');
fs.writeFileSync(out, png);
console.log(`wrote ${out} (${png.length} bytes)`);
