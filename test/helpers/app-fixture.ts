import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const exampleDir = path.join(repoRoot, 'apps', 'example');
/** Inside the repo, so the copy resolves fastify and fw from the workspace's node_modules. */
const scratchRoot = path.join(repoRoot, 'test', '.tmp');

export interface AppFixture {
  dir: string;
  /** Changes the version `GET /` answers with: the "edit" of an edit-build-reload cycle. */
  setVersion(version: string): Promise<void>;
  /** Makes the app's start-up throw (a deploy that cannot boot). */
  breakStartup(message: string): Promise<void>;
  restoreStartup(): Promise<void>;
  remove(): Promise<void>;
}

/** A private copy of apps/example that a test may edit, build and run. */
export async function copyExampleApp(name: string): Promise<AppFixture> {
  const dir = path.join(scratchRoot, `${name}-${randomBytes(3).toString('hex')}`);
  await mkdir(scratchRoot, { recursive: true });
  await cp(exampleDir, dir, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|\.fw|test)$/.test(source),
  });
  // The example's tsconfig extends the repo's base by a relative path; point the copy at it too.
  const tsconfigFile = path.join(dir, 'tsconfig.json');
  const base = path.relative(dir, path.join(repoRoot, 'tsconfig.base.json'));
  await writeFile(tsconfigFile, (await readFile(tsconfigFile, 'utf8')).replace('../../tsconfig.base.json', base));
  const appFile = path.join(dir, 'src', 'app.ts');
  const original = await readFile(appFile, 'utf8');
  let current = original;
  const write = async (text: string) => {
    current = text;
    await writeFile(appFile, text);
  };
  return {
    dir,
    setVersion: (version) => write(current.replace(/export const VERSION = '[^']*';/, `export const VERSION = '${version}';`)),
    breakStartup: (message) =>
      write(current.replace('export default async function createApp() {', `export default async function createApp() {\n  throw new Error(${JSON.stringify(message)});`)),
    restoreStartup: () => write(current.replace(/\n {2}throw new Error\(.*\);/, '')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
