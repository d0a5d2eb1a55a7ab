import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { paint } from './paint.js';

/**
 * `tsc --noEmit --watch` beside fw dev: types never block a reload (esbuild strips them), but
 * their errors are shown as tsc reports them.
 */
export function startTypecheck(appDir: string, print: (text: string) => void): { stop(): void } {
  let tsc: string;
  try {
    tsc = createRequire(path.join(appDir, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    print(paint('yellow', '--typecheck needs TypeScript: npm install --save-dev typescript\n'));
    return { stop: () => undefined };
  }
  const child = spawn(process.execPath, [tsc, '--noEmit', '--watch', '--preserveWatchOutput', '--pretty', 'false'], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim()) print(`${paint('blue', '[tsc]')} ${line}\n`);
    });
  }
  return { stop: () => child.kill() };
}
