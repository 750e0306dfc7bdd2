declare const __RESIGHT_VERSION__: string;
