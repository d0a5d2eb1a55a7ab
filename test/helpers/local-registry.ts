/**
 * A real npm registry on this machine, for test/registry.test.ts: Verdaccio on 127.0.0.1 on a free
 * port, its config and storage in a temp folder of their own. fw's packages (fwjs, @fwjs/*,
 * create-fw) are served from its storage alone, where the test publishes them, so an install can
 * only get this run's packages; every other package is proxied to the registry npm is configured
 * with (read with `npm config get registry` at run time), so third-party packages install as they
 * would for a user. Every npm command against it uses a throwaway userconfig, never ~/.npmrc, and
 * npm's default cache (installs stay fast; tarballs are keyed by their integrity).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { repoRoot } from './app-fixture.js';
import { spawnGroup } from './fw-process.js';
import { npmEnv, publishableWorkspaces } from './packed-fw.js';
import { freePort } from './proxies.js';
import { get } from './written-apps.js';

const verdaccioBin = createRequire(import.meta.url).resolve('verdaccio/bin/verdaccio');

export interface LocalRegistry {
  /** `http://127.0.0.1:PORT/`, with the trailing slash, as npm writes it in `resolved` URLs. */
  url: string;
  /** What every npm command against this registry adds to its environment: the throwaway userconfig. */
  npmConfig: { npm_config_userconfig: string };
  /** Everything Verdaccio printed so far. */
  output(): string;
  /** TERM to Verdaccio (KILL after a short grace), awaited; then its folder is removed. */
  stop(): Promise<void>;
}

/** The registry npm installs from here, as the user configured it: the uplink, never written down anywhere. */
async function configuredRegistry(): Promise<string> {
  const result = await execa('npm', ['config', 'get', 'registry'], { cwd: repoRoot, env: npmEnv(), extendEnv: false, reject: false, all: true, timeout: 30_000, stdin: 'ignore' });
  const url = result.stdout.trim();
  if (result.exitCode !== 0 || !/^https?:\/\/\S+$/.test(url)) throw new Error(`npm config get registry did not give a URL:\n${result.all}`);
  return url;
}

/**
 * Verdaccio's config (JSON, which is YAML too). fw's packages have no `proxy`: asking for one that
 * was not published here is a 404, never a fetch from the uplink, so whatever the uplink has under
 * these names (a release of fw, someone else's package) never mixes in; anyone may publish them.
 * Everything else is read-only and proxied.
 */
function verdaccioConfig(dir: string, uplink: string): string {
  const own = { access: '$all', publish: '$all' };
  return `${JSON.stringify(
    {
      storage: path.join(dir, 'storage'),
      // No registration: nobody needs an account, the dummy token in the userconfig is enough for $all.
      auth: { htpasswd: { file: path.join(dir, 'htpasswd'), max_users: -1 } },
      uplinks: { upstream: { url: uplink } },
      packages: { fwjs: own, '@fwjs/*': own, 'create-fw': own, '**': { access: '$all', proxy: 'upstream' } },
      web: { enable: false },
      log: { type: 'stdout', format: 'pretty', level: 'warn' },
    },
    null,
    2,
  )}\n`;
}

/**
 * The userconfig of every npm command of the test: this registry, a dummy token for it (npm will
 * not publish without one; Verdaccio lets anyone publish fw's packages), and `resolved` URLs kept
 * in lockfiles, which the test reads. No prefer-online: it would make npm download every tarball
 * again instead of taking it from the cache by integrity; nor is it needed, since Verdaccio's
 * packuments carry no freshness headers, so npm revalidates each one (a port an earlier run used
 * cannot bring back that run's metadata).
 */
function userconfig(url: string): string {
  const host = url.replace(/^http:/, '');
  return [`registry=${url}`, `${host}:_authToken=fw-registry-test`, 'omit-lockfile-registry-resolved=false', 'audit=false', 'fund=false', 'update-notifier=false', ''].join('\n');
}

/** Polls Verdaccio's ping until it answers 200 (bounded); fails at once if Verdaccio exits. */
async function waitUntilAnswers(url: string, exited: () => boolean, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`Verdaccio exited before it answered:\n${output()}`);
    const status = await get(`${url}-/ping`).then(
      (answer) => answer.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`Verdaccio did not answer ${url}-/ping within ${timeoutMs} ms:\n${output()}`);
    await sleep(100);
  }
}

/** Starts Verdaccio on a free port of 127.0.0.1 and resolves once it answers. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fw-registry-'));
  try {
    const uplink = await configuredRegistry();
    const configFile = path.join(dir, 'config.yaml');
    await writeFile(configFile, verdaccioConfig(dir, uplink));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const userconfigFile = path.join(dir, 'npmrc');
    await writeFile(userconfigFile, userconfig(url));

    let output = '';
    let exited = false;
    const group = spawnGroup(process.execPath, [verdaccioBin, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
      cwd: dir,
      env: { NO_COLOR: '1' },
      onOutput: (chunk) => {
        output += stripVTControlCharacters(chunk);
      },
    });
    void group.exited.then(() => {
      exited = true;
    });
    const stop = async () => {
      // Verdaccio closes its server on TERM; a client's kept-alive connection could hold that up, hence the KILL after 5 s.
      await group.stop(5_000, 'group');
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitUntilAnswers(url, () => exited, () => output);
    } catch (error) {
      await stop();
      throw error;
    }
    return { url, npmConfig: { npm_config_userconfig: userconfigFile }, output: () => output, stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** What `npm publish --json` reports of each package: name → version and the tarball's integrity. */
export type Published = Record<string, { version: string; integrity: string }>;

/**
 * A `publishConfig` that names a registry (`registry`, `@scope:registry`) would send a publish
 * somewhere else than the registry under test; refuse before publishing anything.
 */
async function refuseOtherRegistries(workspaces: string[]): Promise<void> {
  for (const workspace of workspaces) {
    const manifest = JSON.parse(await readFile(path.join(repoRoot, workspace, 'package.json'), 'utf8'));
    const keys = Object.keys(manifest.publishConfig ?? {}).filter((key) => /registry/i.test(key));
    if (keys.length > 0) throw new Error(`${workspace}/package.json: publishConfig sets ${keys.join(', ')}, which would publish elsewhere than the local registry`);
  }
}

/**
 * Publishes every publishable package of the workspace (dist/ built) to `registry` with one
 * `npm publish`: a registry does not check a package's dependencies on publish, so the order does
 * not matter. `--registry` on the command line also beats a `publishConfig.registry`.
 */
export async function publishWorkspace(registry: LocalRegistry): Promise<Published> {
  const workspaces = await publishableWorkspaces();
  await refuseOtherRegistries(workspaces);
  const result = await execa('npm', ['publish', '--json', '--registry', registry.url, ...workspaces.flatMap((workspace) => ['--workspace', workspace])], {
    cwd: repoRoot,
    env: npmEnv(registry.npmConfig),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) {
    throw new Error(`npm publish ${result.timedOut ? 'timed out after 120 s' : `exited ${result.exitCode}`}:\n${stripVTControlCharacters(result.all ?? '')}\n--- Verdaccio:\n${registry.output()}`);
  }
  const report = JSON.parse(result.stdout) as Record<string, { version: string; integrity: string }>;
  return Object.fromEntries(Object.entries(report).map(([name, { version, integrity }]) => [name, { version, integrity }]));
}

/** A package's entry in a lockfile (`packages["node_modules/<name>"]`). */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
}

/**
 * The lockfile entry of `name` in the folder where `npm exec` (`npm create`) installed `spec`:
 * a folder of the npx cache in npm's cache folder `cache` (`<cache>/_npx/<hash>`) whose package.json lists the specs it was
 * installed for. Undefined when npm installed nothing there for `spec` (it ran a copy from
 * elsewhere: a global or a local install).
 */
export async function npxInstalled(cache: string, spec: string, name: string): Promise<LockEntry | undefined> {
  const npxCache = path.join(cache, '_npx');
  if (!existsSync(npxCache)) return undefined;
  for (const folder of await readdir(npxCache)) {
    const manifestFile = path.join(npxCache, folder, 'package.json');
    const lockFile = path.join(npxCache, folder, 'package-lock.json');
    if (!existsSync(manifestFile) || !existsSync(lockFile)) continue;
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { _npx?: { packages?: string[] } };
    // npm hashes the list of specs into the folder's name: the folder of `spec` alone.
    if (manifest._npx?.packages?.length !== 1 || manifest._npx.packages[0] !== spec) continue;
    const lock = JSON.parse(await readFile(lockFile, 'utf8')) as { packages?: Record<string, LockEntry> };
    return lock.packages?.[`node_modules/${name}`];
  }
  return undefined;
}
