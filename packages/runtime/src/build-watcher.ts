import { watch } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { appPaths } from '@fwjs/core';

/**
 * `fw start --watch`: a new complete build in `.fw/build` (published by `fw build`, which
 * swaps the symlink with one rename) asks for the same health-gated reload as HUP. Watching the
 * `.fw` folder sees that rename; half-written builds live elsewhere and are never seen.
 */
export function watchBuilds(appDir: string, current: () => string | null, onNewBuild: (buildId: string) => void): { close(): void } {
  const paths = appPaths(appDir);
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    const folder = await realpath(paths.build).catch(() => null);
    if (!folder) return;
    const id = folder.split(/[\\/]/).pop() ?? folder;
    if (id !== current()) onNewBuild(id);
  };
  const watcher = watch(paths.fw, (_event, file) => {
    if (file !== 'build') return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 20);
  });
  watcher.on('error', () => undefined);
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
