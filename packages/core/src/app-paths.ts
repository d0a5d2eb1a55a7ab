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
    /** fw dev's releases, one per save. */
    devBuilds: path.join(fw, 'dev', 'builds'),
    pidFile: path.join(fw, `master${suffix}.pid`),
    controlSocket: path.join(fw, `control${suffix}.sock`),
  };
}

/**
 * Inside a release folder: which module a worker imports. A release mirrors the app's layout, so
 * the entry's place (e.g. `src/app.js`, or `apps/web/src/app.js` in a monorepo) is written down.
 */
export const RELEASE_MANIFEST_FILE = '.fw-release.json';

export interface ReleaseManifest {
  /** The module a worker imports, relative to the release folder. */
  entry: string;
  /** The source file it was built from, relative to the app folder (e.g. `src/server.ts`), for people. */
  source?: string;
}
