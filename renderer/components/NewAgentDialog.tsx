/** "New agent": runs a command in a new detached tmux session with capture, then opens its pane. */
import { useState, type FormEvent } from 'react';
import { invoke } from '../bridge.js';
import { appStore, useApp } from '../store/useApp.js';
import { taskLabel } from './Sidebar.js';

/** The value of the task picker that means "a new task". */
const NEW_TASK = '';

export function NewAgentDialog() {
  const workspace = useApp((s) => s.workspace);
  const tasks = workspace?.roots.flatMap((r) => r.tasks.map((t) => ({ root: r.root, taskId: t.taskId }))) ?? [];
  const [command, setCommand] = useState('');
  const [task, setTask] = useState(NEW_TASK);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => appStore.getState().setOverlay(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const picked = tasks.find((t) => `${t.root}\n${t.taskId}` === task);
    try {
      const started = await invoke('agent:run', {
        command,
        ...(picked ? { root: picked.root, taskId: picked.taskId } : {}),
        ...(name.trim() !== '' ? { name: name.trim() } : {}),
      });
      const s = appStore.getState();
      s.setOverlay(null);
      s.openAgent({ root: started.root, taskId: started.taskId, agentId: started.agentId });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="overlay" role="presentation" onMouseDown={close}>
      <form className="dialog" role="dialog" aria-modal="true" aria-label="New agent" onMouseDown={(e) => e.stopPropagation()} onSubmit={(e) => void submit(e)}>
        <header className="dialog-head">
          <h2>New agent</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        <label className="field">
          <span>Command</span>
          <input autoFocus required value={command} spellCheck={false} placeholder="claude --print 'fix the tests'" onChange={(e) => setCommand(e.target.value)} />
        </label>
        <label className="field">
          <span>Task</span>
          <select value={task} onChange={(e) => setTask(e.target.value)}>
            <option value={NEW_TASK}>New task</option>
            {tasks.map((t) => (
              <option key={`${t.root}\n${t.taskId}`} value={`${t.root}\n${t.taskId}`}>
                {taskLabel(t.taskId)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Name</span>
          <input value={name} spellCheck={false} placeholder="derived from the command" pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,127}" title="Letters, digits, . _ -" onChange={(e) => setName(e.target.value)} />
        </label>
        {error && <div className="filter-error">{error}</div>}
        <footer className="dialog-foot">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || command.trim() === ''}>
            {busy ? 'Starting…' : 'Start'}
          </button>
        </footer>
      </form>
    </div>
  );
}
