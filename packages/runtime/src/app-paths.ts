import path from 'node:path';

/** Where fw keeps its state for one app: `<app>/.fw/`. */
export function appPaths(appDir: string) {
  const fw = path.join(appDir, '.fw');
  return {
    fw,
    /** The latest complete build: a symlink into `builds/`, swapped atomically. */
    build: path.join(fw, 'build'),
    builds: path.join(fw, 'builds'),
    pidFile: path.join(fw, 'master.pid'),
    controlSocket: path.join(fw, 'control.sock'),
  };
}

/** The module a worker imports, inside a build folder. */
export const BUILD_ENTRY_FILE = 'app.mjs';
