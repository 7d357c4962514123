/**
 * Builds a batch of JSONL lines directly as UTF-8 bytes, for the capture path (LogWriter.writeCaptured).
 *
 * Capture writes about 100 bytes of JSON per line of pane output, often for lines of a few bytes
 * (`seq`, progress counters), so building a string per line and encoding it cost more than the
 * rest of the conversion. Here the constant parts are copied as bytes, the sequence number is
 * written digit by digit, and the content is JSON-escaped and UTF-8-encoded in one pass, with
 * exactly the bytes `JSON.stringify` would give.
 */

/** The first size of the shared buffer: a 1 MiB read of pane output makes about 2-4 MiB of JSONL. */
const INITIAL_BYTES = 4 * 1024 * 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';

/**
 * One batch of JSONL bytes, in a buffer that all batches of the process share: a batch is built
 * and written synchronously, so two never overlap, and nothing is allocated per batch once the
 * buffer has grown to the usual batch size. `bytes()` is valid until the next batch starts.
 */
export class JsonlBytes {
  private static shared = Buffer.allocUnsafe(INITIAL_BYTES);
  private out = JsonlBytes.shared;
  private length = 0;

  /** Makes room for `more` bytes. */
  private reserve(more: number): void {
    if (this.length + more <= this.out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.length + more));
    this.out.copy(grown, 0, 0, this.length);
    this.out = grown;
    JsonlBytes.shared = grown;
  }

  /** Appends bytes as they are (pre-encoded constant parts). */
  addBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.out.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends any text, UTF-8 encoded. */
  addText(text: string): void {
    this.reserve(text.length * 3); // a UTF-16 unit encodes to at most 3 bytes
    this.length += this.out.write(text, this.length);
  }

  /** Appends a non-negative integer in decimal. */
  addInteger(value: number): void {
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    this.reserve(digits);
    let o = this.length + digits;
    let v = value;
    do {
      this.out[--o] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    this.length += digits;
  }

  /** Appends `JSON.stringify(text)`, byte for byte, without building that string. */
  addJsonString(text: string): void {
    // Worst case: every unit becomes a 6-byte `\u00XX` escape.
    this.reserve(text.length * 6 + 2);
    const out = this.out;
    const start = this.length;
    let o = start;
    out[o++] = QUOTE;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
          out[o++] = c;
          continue;
        }
        out[o++] = BACKSLASH;
        switch (c) {
          case QUOTE:
          case BACKSLASH:
            out[o++] = c;
            break;
          case 0x08:
            out[o++] = 0x62; // b
            break;
          case 0x09:
            out[o++] = 0x74; // t
            break;
          case 0x0a:
            out[o++] = 0x6e; // n
            break;
          case 0x0c:
            out[o++] = 0x66; // f
            break;
          case 0x0d:
            out[o++] = 0x72; // r
            break;
          default:
            out[o++] = 0x75; // u00XX, lowercase as JSON.stringify writes it
            out[o++] = 0x30;
            out[o++] = 0x30;
            out[o++] = HEX.charCodeAt(c >> 4);
            out[o++] = HEX.charCodeAt(c & 0xf);
        }
      } else if (c < 0x800) {
        out[o++] = 0xc0 | (c >> 6);
        out[o++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        out[o++] = 0xe0 | (c >> 12);
        out[o++] = 0x80 | ((c >> 6) & 0x3f);
        out[o++] = 0x80 | (c & 0x3f);
      } else {
        const low = text.charCodeAt(i + 1);
        if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) {
          // A lone surrogate: JSON.stringify escapes it. Rare (decoded pane output has none).
          this.length = start;
          this.addText(JSON.stringify(text));
          return;
        }
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 0x3f);
        out[o++] = 0x80 | ((cp >> 6) & 0x3f);
        out[o++] = 0x80 | (cp & 0x3f);
        i++;
      }
    }
    out[o++] = QUOTE;
    this.length = o;
  }

  /** The batch so far. */
  bytes(): Buffer {
    return this.out.subarray(0, this.length);
  }
}
