/** The preload: exposes the contract's allow-listed channels as `window.loupe` (issue 4). */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('loupe', {});
