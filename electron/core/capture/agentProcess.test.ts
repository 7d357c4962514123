import { describe, expect, it } from 'vitest';
import { agentOfCommand } from './agentProcess.js';

describe('agentOfCommand', () => {
  it('names the agent a program runs, by its name or its interpreter\'s script', () => {
    expect(agentOfCommand(['claude', '--resume'])).toBe('claude');
    expect(agentOfCommand(['/usr/local/bin/codex'])).toBe('codex');
    expect(agentOfCommand(['/usr/lib/node_modules/@openai/codex/vendor/x86_64/codex/codex-x86_64-unknown-linux-musl'])).toBe('codex');
    expect(agentOfCommand(['node', '--no-warnings', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js'])).toBe('claude');
    expect(agentOfCommand(['node', '/home/me/.npm-global/bin/codex.js'])).toBe('codex');
  });

  it('names nothing for other programs, even ones whose arguments mention an agent', () => {
    expect(agentOfCommand(['sh', '-c', 'claude'])).toBeNull();
    expect(agentOfCommand(['vim', 'claude.md'])).toBeNull();
    expect(agentOfCommand(['node', 'server.js'])).toBeNull();
    expect(agentOfCommand(['claudette'])).toBeNull();
    expect(agentOfCommand([])).toBeNull();
  });
});
