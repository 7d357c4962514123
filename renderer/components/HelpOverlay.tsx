/** The `?` overlay: every shortcut, from the same table the key handler uses. */
import { SHORTCUTS, type Shortcut } from '../shortcuts.js';
import { appStore } from '../store/useApp.js';

const GROUPS: Shortcut['group'][] = ['Panes', 'Replay', 'Find and filter', 'App'];

export function HelpOverlay() {
  const close = () => appStore.getState().setOverlay(null);
  return (
    <div className="overlay" role="presentation" onMouseDown={close}>
      <div className="dialog help" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onMouseDown={(e) => e.stopPropagation()}>
        <header className="dialog-head">
          <h2>Keyboard shortcuts</h2>
          <button className="icon-btn" aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        <div className="help-groups">
          {GROUPS.map((group) => (
            <section key={group}>
              <h3>{group}</h3>
              <table>
                <tbody>
                  {SHORTCUTS.filter((s) => s.group === group).map((s) => (
                    <tr key={s.description}>
                      <td className="keys">
                        {s.keys.map((k) => (
                          <kbd key={k}>{k === ' ' ? 'Space' : k}</kbd>
                        ))}
                      </td>
                      <td>{s.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
        </div>
      </div>
    </div>
  );
}
