// Sandboxed preload (bundled to CommonJS): expose window.switchyard and nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './preload-api.ts';

contextBridge.exposeInMainWorld('switchyard', createPreloadApi(ipcRenderer));
