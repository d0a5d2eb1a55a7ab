/**
 * What `npm publish` would ship, read from `npm pack --dry-run`: each package holds its built
 * JavaScript, declarations and source maps (one of each per source module, nothing stale), its
 * bins and templates, README, LICENSE and manifest, and nothing else (no sources, tests, configs
 * or reports); everything its manifest points at is in it; its manifest says what a registry and
 * a user need; all of them are at one version, which scripts/set-version.mjs sets.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/app-fixture.js';
import { npmEnv } from './helpers/packed-fw.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  type?: string;
  types?: string;
  engines?: { node?: string };
  repository?: { type?: string; url?: string; directory?: string };
  publishConfig?: { access?: string };
  bin?: Record<string, string>;
  exports?: Record<string, { types: string; default: string }>;
}
interface Packed {
  folder: string;
  manifest: Manifest;
  files: string[];
}

interface Workspace {
  dir: string;
  json: Record<string, unknown>;
  published: boolean;
}
interface SetVersionModule {
  readWorkspaces(repoRoot?: string): Workspace[];
  setVersion(workspaces: Workspace[], version: string): Workspace[];
  versionProblems(workspaces: Workspace[]): string[];
}

const rootManifest = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const folders = (await readdir(path.join(repoRoot, 'packages'))).filter((folder) => existsSync(path.join(repoRoot, 'packages', folder, 'package.json')));
const packed = new Map<string, Packed>();

beforeAll(async () => {
  const { stdout } = await execa('npm', ['pack', '--dry-run', '--json', ...folders.flatMap((folder) => ['--workspace', `packages/${folder}`])], {
    cwd: repoRoot,
    env: npmEnv(),
    timeout: 60_000,
  });
  const results = JSON.parse(stdout) as { name: string; files: { path: string }[] }[];
  for (const folder of folders) {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, 'packages', folder, 'package.json'), 'utf8')) as Manifest;
    const result = results.find((each) => each.name === manifest.name);
    if (!result) throw new Error(`npm pack did not pack packages/${folder} (${manifest.name})`);
    packed.set(folder, { folder, manifest, files: result.files.map((file) => file.path).sort() });
  }
});

/** The files a package should ship for its sources: src/a/b.ts → dist/a/b.js, .d.ts and .js.map. */
async function builtFrom(folder: string): Promise<string[]> {
  const sources = await readdir(path.join(repoRoot, 'packages', folder, 'src'), { recursive: true });
  return sources
    .filter((source) => source.endsWith('.ts') && !source.endsWith('.d.ts'))
    .flatMap((source) => {
      const base = `dist/${source.replaceAll(path.sep, '/').replace(/\.ts$/, '')}`;
      return [`${base}.js`, `${base}.d.ts`, `${base}.js.map`];
    });
}

async function filesUnder(folder: string, sub: string): Promise<string[]> {
  const dir = path.join(repoRoot, 'packages', folder, sub);
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(path.join(repoRoot, 'packages', folder), path.join(entry.parentPath, entry.name)).replaceAll(path.sep, '/'));
}

describe.each(folders)('packages/%s, as npm pack would ship it', (folder) => {
  it('holds its build, bins, templates, README, LICENSE and manifest, and nothing else', async () => {
    const { files } = packed.get(folder) as Packed;
    const expected = [
      'LICENSE',
      'README.md',
      'package.json',
      ...(await builtFrom(folder)),
      ...(await filesUnder(folder, 'bin')),
      ...(await filesUnder(folder, 'templates')),
    ].sort();
    expect(files).toEqual(expected);
  });

  it('holds everything its manifest points at: exports, types and bins', () => {
    const { manifest, files } = packed.get(folder) as Packed;
    const targets = [
      manifest.types,
      ...Object.values(manifest.exports ?? {}).flatMap((entry) => [entry.types, entry.default]),
      ...Object.values(manifest.bin ?? {}),
    ].map((target) => target?.replace(/^\.\//, ''));
    expect(targets.length).toBeGreaterThan(2);
    for (const target of targets) expect(files, `${manifest.name} points at ${target}`).toContain(target);
  });

  it('has source maps that carry their sources, since src/ is not shipped', async () => {
    const { files } = packed.get(folder) as Packed;
    const maps = files.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const json = JSON.parse(await readFile(path.join(repoRoot, 'packages', folder, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(json.sourcesContent?.length, map).toBe(json.sources.length);
      expect(json.sourcesContent?.every((content) => typeof content === 'string' && content.length > 0), map).toBe(true);
    }
  });

  it('has a manifest a registry and a user need: public, licensed, linked to its folder, on the supported Node.js', () => {
    const { manifest } = packed.get(folder) as Packed;
    expect(manifest.private).toBeUndefined();
    expect(manifest.name === 'fwjs' || manifest.name === 'create-fw' || manifest.name.startsWith('@fwjs/')).toBe(true);
    expect(manifest.license).toBe('MIT');
    expect(manifest.type).toBe('module');
    expect(manifest.engines?.node).toBe(rootManifest.engines.node);
    expect(manifest.publishConfig?.access).toBe('public');
    expect(manifest.repository).toEqual({ type: 'git', url: (packed.get('core') as Packed).manifest.repository?.url, directory: `packages/${folder}` });
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\/.+\.git$/);
  });
});

it('npm publish --workspaces would publish every package as its manifest says, correcting nothing', async () => {
  const { stdout, stderr } = await execa('npm', ['publish', '--workspaces', '--dry-run'], { cwd: repoRoot, env: npmEnv(), timeout: 120_000 });
  const published = [...stdout.matchAll(/^\+ (\S+)@\S+$/gm)].map((match) => match[1]).sort();
  expect(published).toEqual([...packed.values()].map((each) => each.manifest.name).sort());
  // npm "auto-corrects" a manifest it finds wrong (a bin it cannot read is dropped) and says so.
  expect(stderr).not.toMatch(/auto-corrected|errors corrected/);
});

describe('one version for every package (scripts/set-version.mjs)', () => {
  const load = async () => (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'set-version.mjs')).href)) as SetVersionModule;

  it('--check passes on the repository as it is', async () => {
    const result = await execa('node', ['scripts/set-version.mjs', '--check'], { cwd: repoRoot, reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/every package is at \d+\.\d+\.\d+/);
  });

  it('sets the version of every package and every dependency on one, and nothing else', async () => {
    const { readWorkspaces, setVersion, versionProblems } = await load();
    const workspaces = readWorkspaces(repoRoot);
    const changed = setVersion(workspaces, '9.8.7-rc.1');
    expect(versionProblems(workspaces)).toEqual([]);
    for (const workspace of workspaces.filter((each) => each.published)) expect(workspace.json.version).toBe('9.8.7-rc.1');
    const example = workspaces.find((each) => each.dir === 'apps/example') as Workspace;
    expect((example.json.dependencies as Record<string, string>).fwjs).toBe('9.8.7-rc.1');
    expect((example.json.dependencies as Record<string, string>).fastify).not.toBe('9.8.7-rc.1');
    expect(example.json.version).not.toBe('9.8.7-rc.1');
    expect(changed.map((each) => each.dir)).toContain('test');
  });

  it('names what is out of step, and refuses a version that is not one', async () => {
    const { readWorkspaces, setVersion, versionProblems } = await load();
    const workspaces = readWorkspaces(repoRoot);
    const cli = workspaces.find((each) => each.json.name === 'fwjs') as Workspace;
    (cli.json.dependencies as Record<string, string>)['@fwjs/core'] = '^0.0.1';
    expect(versionProblems(workspaces)).toEqual([expect.stringMatching(/packages\/cli\/package\.json: dependencies\.@fwjs\/core is "\^0\.0\.1", not "/)]);
    cli.json.version = '0.0.1';
    expect(versionProblems(workspaces)).toEqual([expect.stringMatching(/^the packages are at 2 versions: .*fwjs@0\.0\.1/)]);
    expect(() => setVersion(workspaces, 'v1.2')).toThrow(/"v1\.2" is not a version/);
  });
});
