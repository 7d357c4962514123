import { describe, expect, it } from 'vitest';
import { JsonlBytes } from './jsonl-bytes.js';

function encoded(build: (out: JsonlBytes) => void): string {
  const out = new JsonlBytes();
  build(out);
  return out.bytes().toString('utf8');
}

describe('JsonlBytes', () => {
  it('escapes strings exactly as JSON.stringify does', () => {
    const controls = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join('');
    const samples = [
      '',
      'plain ascii',
      controls,
      '"quoted" \\ back\\slash \x7f del',
      '\x1b[31mred\x1b[0m\r',
      'é ß — 日本 ⏺ 🎉 𝄞',
      '\ud800 lone high',
      'lone low \udc00',
      'high at the end \ud83c',
      '\ufffd replacement',
    ];
    for (const text of samples) expect(encoded((out) => out.addJsonString(text))).toBe(JSON.stringify(text));
  });

  it('writes integers in decimal and keeps bytes in order across growth', () => {
    const numbers = [0, 7, 10, 99, 100, 123456789, Number.MAX_SAFE_INTEGER];
    expect(encoded((out) => numbers.forEach((n) => (out.addInteger(n), out.addBytes(Buffer.from(','))))))
      .toBe(numbers.map((n) => `${n},`).join(''));
    const big = 'x'.repeat(3 * 1024 * 1024);
    expect(encoded((out) => (out.addText('a'), out.addJsonString(big), out.addJsonString(big)))).toBe(`a${JSON.stringify(big)}${JSON.stringify(big)}`);
  });
});
