declare const __TORSH_DEPOT_VERSION__: string | undefined;

/** Injected by the bundler; tests running from source fall back to the development marker. */
export const appVersion: string = typeof __TORSH_DEPOT_VERSION__ === 'string' ? __TORSH_DEPOT_VERSION__ : '0.0.0-dev';
