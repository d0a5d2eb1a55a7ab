import path from 'node:path';

/**
 * Where fw keeps its state for one app: `<app>/.fw/`. A named instance (`fw start --instance
 * green`, for blue/green) has a pid file and control socket of its own beside the default one.
 */
export function appPaths(appDir: string, instance?: string) {
  const fw = path.join(appDir, '.fw');
  const suffix = instance ? `-${instance}` : '';
  return {
    fw,
    /** The latest complete build: a symlink into `builds/`, swapped atomically. */
    build: path.join(fw, 'build'),
    builds: path.join(fw, 'builds'),
    pidFile: path.join(fw, `master${suffix}.pid`),
    controlSocket: path.join(fw, `control${suffix}.sock`),
  };
}

/** The module a worker imports, inside a build folder. */
export const BUILD_ENTRY_FILE = 'app.mjs';
