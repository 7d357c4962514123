// Vite build of the renderer. `base: './'` keeps asset URLs relative, so the same build works
// from file:// inside Electron and from any path `loupe serve` mounts it at.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Electron 45 ships Chromium 140: no need to transpile for older engines.
    target: 'chrome120',
    chunkSizeWarningLimit: 2048,
  },
});
