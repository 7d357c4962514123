/** Renderer entry: mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './fonts.css';
import './styles.css';
import { MONO_FONT_FAMILY } from '../shared/fonts.js';
import { App } from './components/App.js';

// styles.css sets code and terminal text in var(--font-mono); the stack itself lives in shared/fonts.ts.
document.documentElement.style.setProperty('--font-mono', MONO_FONT_FAMILY);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
