/**
 * Answering a waiting agent from its pane (SPEC §13), where control is allowed (the desktop app,
 * `loupe serve --allow-control`): the numbered choices of its question as buttons, and a line to
 * type an answer into. What is sent is recorded in the agent's log as user input.
 */
import { useState } from 'react';
import type { WorkspaceAgent } from '../../shared/ipc.js';
import { invoke } from '../bridge.js';
import { appStore } from '../store/useApp.js';

/** `❯ 1. Yes`, `  2. No, and tell Claude what to do differently (esc)` → 1 / 2 with their labels. */
const CHOICE = /^\s*(?:[❯›>●▸▶]\s*)?(\d{1,2})[.)]\s+(.+?)\s*$/;

export function choicesOf(prompt: string | null): { key: string; label: string }[] {
  return (prompt ?? '').split('\n').flatMap((line) => {
    const m = CHOICE.exec(line);
    return m ? [{ key: m[1], label: m[2] }] : [];
  });
}

export function ReplyBar({ agent }: { agent: WorkspaceAgent }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const choices = choicesOf(agent.attention.prompt);
  const send = async (reply: string, enter: boolean) => {
    setBusy(true);
    try {
      await invoke('agent:reply', { root: agent.root, taskId: agent.taskId, agentId: agent.agentId, text: reply, enter });
      setText('');
    } catch (err) {
      appStore.getState().pushToast({ kind: 'error', title: `Could not answer ${agent.agentId}`, message: (err as Error).message, agent });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="reply-bar"
      aria-label={`Answer ${agent.agentId}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send(text, true);
      }}
    >
      <span className="reply-label">Answer</span>
      {/* A menu takes its number key (Ink and similar select lists act on it at once). */}
      {choices.map((c) => (
        <button key={c.key} type="button" className="btn btn-tiny reply-choice" disabled={busy} title={`Send ${c.key}`} onClick={() => void send(c.key, false)}>
          {c.key}. {c.label.length > 28 ? `${c.label.slice(0, 27)}…` : c.label}
        </button>
      ))}
      <input
        className="reply-input"
        value={text}
        placeholder={choices.length > 0 ? 'or type, Enter sends' : 'type an answer, Enter sends'}
        aria-label="Answer text"
        disabled={busy}
        onChange={(e) => setText(e.target.value.replace(/[\x00-\x1f\x7f]/g, ''))}
      />
      <button type="submit" className="btn btn-tiny" disabled={busy}>
        Send ⏎
      </button>
    </form>
  );
}
