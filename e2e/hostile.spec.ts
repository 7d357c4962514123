// RELIABILITY E3: hostile output in a live pane causes no navigation, no clipboard change, no
// title change, no hang, and sends nothing back toward tmux.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, expectPaneText, openAgent, openApp, paneText, test } from './support/loupe.js';

const HOSTILE_SCRIPT = String.raw`
printf 'before-hostile\n'
printf '\033]8;;javascript:alert(1)\033\\JSLINK\033]8;;\033\\ \033]8;;file:///etc/passwd\033\\FILELINK\033]8;;\033\\ \033]8;;https://example.com/docs\033\\HTTPSLINK\033]8;;\033\\ \033]8;;loupe-evil:run\033\\EVILLINK\033]8;;\033\\\n'
printf '\033]52;c;%s\007' "$(printf 'pwned' | base64)"
printf '\033]52;c;?\007'
printf '\033]0;<img src=x onerror=alert(1)>\nevil\342\200\256title\007'
printf '\033]2;<script>alert(2)</script>\007'
printf '\033[c\033[>c\033[6n\033[5n'
printf '\033]1337;'; head -c 1000000 /dev/zero | tr '\0' 'A'; printf '\007'
printf 'after-hostile\n'
exec sleep 60
`;

/** Clicks the cell where `word` is shown in an agent's pane (links need a real hover + click). */
async function clickWord(page: Page, agentId: string, word: string): Promise<void> {
  const lines = (await paneText(page, agentId, 'screen')).split('\n');
  const row = lines.findIndex((l) => l.includes(word));
  expect(row, `${word} on screen`).toBeGreaterThanOrEqual(0);
  const col = lines[row].indexOf(word) + 1;
  const screen = page.locator(`.pane[data-agent="${agentId}"] .xterm-screen`);
  const box = (await screen.boundingBox())!;
  const size = await page.locator(`.pane[data-agent="${agentId}"] .pane-size`).textContent();
  const [c, r] = size!.split('×').map(Number);
  const x = box.x + (col + 0.5) * (box.width / c);
  const y = box.y + (row + 0.5) * (box.height / r);
  await page.mouse.move(x, y - 3);
  await page.mouse.move(x, y);
  await page.mouse.click(x, y);
}

test('hostile output: no navigation, no clipboard change, no title change, no hang, nothing sent back', async ({ page, loupe, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const script = path.join(loupe.root, 'hostile.sh');
  fs.writeFileSync(script, HOSTILE_SCRIPT);
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const popups: string[] = [];
  page.on('popup', (p) => popups.push(p.url()));

  await openApp(page, loupe);
  const appUrl = page.url();
  await page.evaluate(() => navigator.clipboard.writeText('clipboard-sentinel'));
  const { agentId, paneId } = await loupe.runAgent('hostile', `sh ${script}`);
  await openAgent(page, agentId);
  // The 1 MB OSC is swallowed and the output after it still arrives: no hang.
  await expectPaneText(page, agentId, 'after-hostile');
  await expectPaneText(page, agentId, 'HTTPSLINK');

  expect(page.url()).toBe(appUrl);
  expect(await page.title()).toBe('Loupe');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('clipboard-sentinel');
  expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);

  // Links: javascript:, file: and custom schemes are refused; https asks first and opens nothing by itself.
  for (const [word, scheme] of [['JSLINK', 'javascript:'], ['FILELINK', 'file:'], ['EVILLINK', 'loupe-evil:']]) {
    await clickWord(page, agentId, word);
    const dialog = page.getByRole('alertdialog', { name: 'Open link' });
    await expect(dialog).toContainText('Link blocked');
    await expect(dialog).toContainText(scheme);
    await expect(dialog.getByRole('button', { name: 'Open in browser' })).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
  }
  await clickWord(page, agentId, 'HTTPSLINK');
  const confirm = page.getByRole('alertdialog', { name: 'Open link' });
  await expect(confirm).toContainText('https://example.com/docs');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();

  // The UI still answers, and stayed where it was.
  await page.locator(`.pane[data-agent="${agentId}"]`).getByRole('button', { name: 'Find in pane' }).click();
  await expect(page.locator(`.pane[data-agent="${agentId}"] .find-bar`)).toBeVisible();
  expect(page.url()).toBe(appUrl);
  expect(dialogs).toEqual([]);
  expect(popups).toEqual([]);

  // Terminal query answers (DA, DSR) went nowhere: not over the socket, not into the tmux pane.
  for (const frame of sent) {
    expect(frame).not.toContain('\u001b');
    expect(['invoke']).toContain((JSON.parse(frame) as { kind: string }).kind);
  }
  // tmux is a terminal too: it answers DA and DSR itself, and the pane's tty may echo its answers
  // (whether it does depends on whether the pane is still open when they arrive). Loupe's xterm.js
  // would add answers of its own: DA2 as ">0;276;0c" (tmux says ">84;0;0c"), and second copies.
  const tmuxScreen = await loupe.tmux('capture-pane', '-p', '-t', paneId);
  expect(tmuxScreen).not.toContain('[>0;276;0c');
  for (const reply of [/\[\?1;2c/g, /\[\d+;\d+R/g, /\[0n/g]) expect((tmuxScreen.match(reply) ?? []).length).toBeLessThanOrEqual(1);
});
