import { describe, expect, it } from 'vitest';
import { formatAgentHash, formatAgentLink, parseAgentLink } from './deeplink.js';

describe('agent deep links', () => {
  it('parses the Electron form with a sequence', () => {
    expect(parseAgentLink('loupe://agent/claude-1?seq=42')).toEqual({ agentId: 'claude-1', seq: 42 });
  });

  it('parses the web form with task and time', () => {
    expect(parseAgentLink('#/agent/a.b_c?task=TASK-20260101-120000-0a1b2c3d&at=2026-01-01T12:00:01Z')).toEqual({
      agentId: 'a.b_c',
      taskId: 'TASK-20260101-120000-0a1b2c3d',
      at: '2026-01-01T12:00:01Z',
    });
    expect(parseAgentLink('/agent/x')).toEqual({ agentId: 'x' });
  });

  it('refuses ids that could name a path, and bad fields', () => {
    for (const bad of [
      'loupe://agent/..%2Fetc?seq=1',
      'loupe://agent/%2Fabs',
      'loupe://agent/a%5Cb',
      'loupe://agent/a%00b',
      'loupe://agent/ok?seq=-1',
      'loupe://agent/ok?seq=1e3',
      'loupe://agent/ok?task=../x',
      'loupe://agent/ok?at=yesterday',
      'loupe://agent/%E0%A4%A',
      'https://agent/x',
      'loupe://agent/',
    ]) {
      expect(parseAgentLink(bad), bad).toBeNull();
    }
  });

  it('round-trips through both forms', () => {
    const link = { agentId: 'agent-7', taskId: 'TASK-20260101-120000-0a1b2c3d', seq: 9 };
    expect(formatAgentLink(link)).toBe('loupe://agent/agent-7?task=TASK-20260101-120000-0a1b2c3d&seq=9');
    expect(parseAgentLink(formatAgentLink(link))).toEqual(link);
    expect(parseAgentLink(formatAgentHash(link))).toEqual(link);
  });
});
