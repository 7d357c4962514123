// An imported agent transcript opens like any run, and its pane's status line shows its tokens and cost.
import { execFileSync } from 'node:child_process';
import { expect, openAgent, openApp, test } from './support/loupe.js';

test('an imported Codex rollout shows its tokens and cost in the pane status line', async ({ page, loupe }) => {
  const out = execFileSync(process.execPath, ['bin/loupe.js', 'import', 'electron/core/transcripts/fixtures/codex-rollout.jsonl', '--root', loupe.root], { encoding: 'utf8' });
  const agentId = out.split(' ')[0];
  await openApp(page, loupe);
  await openAgent(page, agentId);
  const status = page.locator(`.pane[data-agent="${agentId}"] .pane-status`);
  // 25,500 tokens of gpt-5 (5,000 in, 500 out, 20,000 cached) at the table's prices.
  await expect(status.locator('.status-tokens')).toHaveText('26k tokens · $0.01');
  await expect(status.locator('.state-badge')).toHaveText('ended');
});
