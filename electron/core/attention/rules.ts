/**
 * The default prompt rules (SPEC §13): the questions that the agents our users run, and common
 * command-line programs, block on. Agent rules match the dialog's own wording on the bottom of
 * the screen (their cursor is often hidden elsewhere); generic rules must be on the cursor's
 * rows, so the same words scrolling past in a log are no question. Rules are tried in order, the
 * generic ones first (a shell's `[y/N]` is not an agent's dialog). The wording comes from each
 * agent's source and releases (Claude Code 2.1, Codex, Gemini CLI, Aider, OpenCode); agents
 * change it between releases, which is why users can add rules. Users add and override rules
 * in `loupe.config.json` (`attention.rules`, tried first; `attention.defaults: false` drops these).
 */
import { loadConfig } from '../capture/config.js';
import { compilePromptRules, type CompiledPromptRule, type PromptRule } from './attention.js';

export const DEFAULT_PROMPT_RULES: PromptRule[] = [
  // Aider: `confirm_ask` ends "(Y)es/(N)o[/(A)ll][/(S)kip all][/(D)on't ask again] [Yes]: " on the cursor row.
  { name: 'aider-confirm', pattern: "\\(Y\\)es/\\(N\\)o(?:/\\(A\\)ll)?(?:/\\(S\\)kip all)?(?:/\\(D\\)on't ask again)? \\[[^\\]]*\\]: ?$" },
  // Generic questions, on the cursor's rows only: the same words scrolling by in a log are no question.
  { name: 'yes-no', rows: 2, pattern: '[\\[(](?:y/n|Y/n|y/N|Y/N|yes/no)(?:/[^\\])]*)?[\\])]\\s*[:?]?\\s*$' },
  { name: 'ssh-host-key', pattern: '\\(yes/no(?:/\\[fingerprint\\])?\\)\\?\\s*$' },
  { name: 'password', pattern: "^\\s*(?:\\[sudo\\] )?(?:[Pp]assword|[Pp]assphrase|PIN)(?: for [^:]+)?:\\s*$|Enter passphrase for key '[^']+':\\s*$" },
  { name: 'press-enter', rows: 1, pattern: '\\b(?:Press|press|Hit|hit) (?:Enter|ENTER|enter|Return|RETURN|any key|a key) to (?:continue|confirm|proceed|exit|select)\\b' },
  { name: 'are-you-sure', rows: 1, pattern: '\\b(?:Are you sure|Do you want to continue|Continue\\?|Proceed\\?|Ok to proceed\\?|Overwrite\\b.*\\?)' },
  // Claude Code 2.1: permission dialogs ("Do you want to proceed?", "… make this edit to x?"),
  // the folder-trust dialog (three wordings over releases), plan approval and AskUserQuestion.
  // Its menus are `❯ 1. Yes` rows under a `────` rule, with "Esc to cancel · Tab to amend" below.
  {
    name: 'claude-code-permission',
    near: 'screen',
    rows: 15,
    pattern: 'Do you want to (?:proceed|make this edit to|create|overwrite|write to|insert this cell into|delete this cell from)\\b.*\\?',
  },
  {
    name: 'claude-code-trust',
    near: 'screen',
    rows: 15,
    pattern: 'Quick safety check: Is this a project you created|Do you trust the files in this folder\\?|Yes, I trust this folder|❯\\s*1\\.\\s+Yes, proceed\\b',
  },
  { name: 'claude-code-plan', near: 'screen', rows: 15, pattern: 'Would you like to proceed\\?|^\\s*Ready to code\\?|Enter plan mode\\?|Exit plan mode\\?' },
  { name: 'claude-code-question', near: 'screen', rows: 15, pattern: 'Enter to select\\b.*Esc to cancel|Ready to submit your answers\\?' },
  // Codex CLI: approvals, questions (whose footer also says "esc to interrupt"), trust and sign-in.
  {
    name: 'codex-approval',
    near: 'screen',
    rows: 15,
    pattern: 'Would you like to (?:run the following command|make the following edits|grant these permissions)\\?|needs your approval\\.$|Press enter to confirm or esc to cancel',
  },
  { name: 'codex-question', near: 'screen', rows: 15, pattern: 'Question [0-9]+/[0-9]+|enter to submit answer' },
  {
    name: 'codex-trust',
    near: 'screen',
    rows: 15,
    pattern: 'Do you trust the contents of this directory\\?|Yes, allow Codex to work in this folder|^\\s*› 1\\. Open restricted',
  },
  { name: 'codex-sign-in', near: 'screen', rows: 15, pattern: 'Sign in with ChatGPT|Provide your own API key|Paste or type your API key|Finish signing in via your browser' },
  // Gemini CLI: tool confirmations, trust and sign-in dialogs, a shell waiting for keys.
  { name: 'gemini-confirm', near: 'screen', rows: 15, pattern: 'Allow execution of\\b.*\\?|Apply this change\\?|No, suggest changes \\(esc\\)|Waiting for user confirmation' },
  { name: 'gemini-trust', near: 'screen', rows: 15, pattern: 'Do you trust this folder\\?' },
  { name: 'gemini-auth', near: 'screen', rows: 15, pattern: 'How would you like to authenticate for this project\\?' },
  { name: 'gemini-shell-input', near: 'screen', rows: 15, pattern: 'Shell awaiting input \\(Tab to focus\\)' },
  // OpenCode: its permission prompt and question tool.
  { name: 'opencode-permission', near: 'screen', rows: 15, pattern: '△ (?:Permission required|Always allow|Reject permission)|Allow once\\s+Allow always\\s+Reject' },
  { name: 'opencode-question', near: 'screen', rows: 15, pattern: 'enter (?:submit|confirm|toggle)\\s+esc dismiss|Type your own answer' },
  // A numbered menu with a selection cursor, near the bottom of the screen (Ink and similar TUIs).
  { name: 'menu', near: 'screen', rows: 15, pattern: '^\\s*[│┃]?\\s*[❯›▸▶●◉]\\s*[1-9][0-9]?[.)]\\s+\\S' },
];

/** The root's prompt rules, compiled: its configured ones first, then the defaults (a bad config file: the defaults). */
export function promptRulesFor(root: string): CompiledPromptRule[] {
  let rules: PromptRule[] = DEFAULT_PROMPT_RULES;
  try {
    const { attention } = loadConfig(root).config;
    rules = [...attention.rules, ...(attention.defaults ? DEFAULT_PROMPT_RULES : [])];
  } catch {
    // The config's problem is reported where the config is used (ls, capture); attention keeps the defaults.
  }
  return compilePromptRules(rules);
}
