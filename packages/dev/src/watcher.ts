import path from 'node:path';
import { watch } from 'chokidar';
import { ENV_FILES } from './env-file.js';

export type ChangeKind = 'source' | 'env' | 'config' | 'dependencies';

export interface Change {
  kind: ChangeKind;
  /** Relative to the app folder. */
  file: string;
  /** When the first event of this batch arrived (performance.now()). */
  at: number;
}

const IGNORED_FOLDERS = new Set(['node_modules', '.fw', '.git', 'dist', 'coverage', '.turbo']);
const DEPENDENCY_FILES = new Set(['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']);
const CONFIG_FILE = /^fw\.config\.[mc]?[jt]s$/;

export function classify(relative: string): ChangeKind {
  const name = path.basename(relative);
  if (relative === name) {
    if ((ENV_FILES as readonly string[]).includes(name)) return 'env';
    if (CONFIG_FILE.test(name)) return 'config';
    if (DEPENDENCY_FILES.has(name)) return 'dependencies';
  }
  return 'source';
}

export interface AppWatcher {
  ready: Promise<void>;
  /** Watches these folders too (linked workspace packages the app came to import); known ones are skipped. */
  add(folders: readonly string[]): void;
  close(): Promise<void>;
}

/**
 * Watches the app folder (not node_modules, .fw, .git) and reports each burst of changes once:
 * events closer together than `quietMs` form one batch. Paths are relative to the app folder
 * (`../../packages/shared/src/a.ts` for a linked package's file).
 */
export function watchApp(appDir: string, onBatch: (changes: Change[]) => void, quietMs = 5): AppWatcher {
  const watched = new Set([appDir]);
  let batch: Change[] = [];
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(appDir, {
    ignoreInitial: true,
    ignored: (file) => path.relative(appDir, file).split(path.sep).some((part) => IGNORED_FOLDERS.has(part)),
  });
  const onEvent = (file: string) => {
    const relative = path.relative(appDir, file);
    const at = batch[0]?.at ?? performance.now();
    if (!batch.some((change) => change.file === relative)) batch.push({ kind: classify(relative), file: relative, at });
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changes = batch;
      batch = [];
      onBatch(changes);
    }, quietMs);
  };
  watcher.on('add', onEvent).on('change', onEvent).on('unlink', onEvent);
  return {
    ready: new Promise((resolve) => watcher.once('ready', () => resolve())),
    add: (folders) => {
      const fresh = folders.filter((folder) => !watched.has(folder));
      for (const folder of fresh) watched.add(folder);
      if (fresh.length > 0) watcher.add(fresh);
    },
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
