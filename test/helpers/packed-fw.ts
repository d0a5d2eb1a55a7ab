import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './app-fixture.js';

/** The workspace's publishable packages, packed with `npm pack`: package name → tarball path. */
export type Tarballs = Record<string, string>;

/** The workspaces a release publishes: every non-private package of `packages/` (`packages/<folder>`). */
export async function publishableWorkspaces(): Promise<string[]> {
  const workspaces: string[] = [];
  for (const folder of await readdir(path.join(repoRoot, 'packages'))) {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'packages', folder, 'package.json'), 'utf8'));
    if (!manifest.private) workspaces.push(`packages/${folder}`);
  }
  return workspaces;
}

/**
 * Packs every publishable package (their dist/ must be built) into `destination`, exactly as
 * `npm publish` would ship them.
 */
export async function packWorkspace(destination: string): Promise<Tarballs> {
  const workspaces = await publishableWorkspaces();
  const { stdout } = await execa('npm', ['pack', '--json', '--pack-destination', destination, ...workspaces.flatMap((workspace) => ['--workspace', workspace])], {
    cwd: repoRoot,
    env: npmEnv(),
    timeout: 120_000,
  });
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  return Object.fromEntries(packed.map((each) => [each.name, path.join(destination, each.filename)]));
}

/**
 * Points an app's package.json at the tarballs instead of the registry: its own fw dependency
 * directly, and every other package (the ones fw depends on) through npm `overrides`.
 */
export async function useTarballs(appDir: string, tarballs: Tarballs): Promise<void> {
  const file = path.join(appDir, 'package.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  const overrides: Record<string, string> = {};
  for (const [name, tarball] of Object.entries(tarballs)) {
    if (manifest.dependencies?.[name]) manifest.dependencies[name] = `file:${tarball}`;
    else overrides[name] = `file:${tarball}`;
  }
  manifest.overrides = overrides;
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * The environment for an npm run outside the repository: without the npm_* variables of the
 * `npm test` this runs under, so nothing of the workspace's npm settings leaks into the app.
 */
export function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  }
  return { ...env, ...extra };
}
