import { describe, expect, it } from 'vitest';
import { judgeLink } from './hostileOutput.js';

describe('links printed by agents', () => {
  it('allows https links (after the confirm the UI shows)', () => {
    expect(judgeLink('https://example.com/a?b=c')).toEqual({ allowed: true, url: 'https://example.com/a?b=c' });
  });

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'http://example.com', 'data:text/html,<script>', 'vscode://x', 'not a url'])(
    'refuses %s',
    (uri) => {
      expect(judgeLink(uri).allowed).toBe(false);
    },
  );

  it('refuses credentials in the URL and absurdly long links', () => {
    expect(judgeLink('https://user:pw@example.com/').allowed).toBe(false);
    expect(judgeLink(`https://example.com/${'a'.repeat(5000)}`).allowed).toBe(false);
  });
});
