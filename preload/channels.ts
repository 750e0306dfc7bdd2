// Runs in main, the preload and the renderer. IPC channel names, kept free of zod so the sandboxed
// preload bundle stays small (it needs the names, not the schemas).

/** Renderer → main: one channel for every contract call. */
export const IPC_INVOKE_CHANNEL = 'resight:invoke';
/** Main → renderer: pushed events. */
export const IPC_EVENT_CHANNEL = 'resight:event';
/** Renderer → main: show the native open dialog; answers the chosen path or null. */
export const OPEN_DIALOG_CHANNEL = 'resight:open-dialog';
/** Main → renderer: a menu item asks the page to run one of its own actions. */
export const MENU_CHANNEL = 'resight:menu';

export const MENU_COMMANDS = ['open-file'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];
