import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BuildOptions, Message, Plugin } from 'esbuild';
import { appPaths } from '@fwjs/core';
import { BuildError, MissingEntryError } from './errors.js';
import { computedImportsPlugin } from './computed-imports.js';
import { decoratorMetadataPlugin } from './decorator-metadata.js';
import { TsconfigLookup } from './tsconfig-lookup.js';
import { ModuleFormats, releaseName, type ModuleFormat } from './module-format.js';
import { ownCodePlugin, type ImportFindings } from './own-code-plugin.js';
import { releaseHash, type Release, type ReleaseFile } from './release.js';
import { isTranspiled, readSourceTree, type SourceTree } from './source-tree.js';

/** A linked package found through its imports makes the release wider; it settles within a few passes. */
const MAX_PASSES = 5;

export interface ReleaseBuilderOptions {
  /** Where the releases are written (default `.fw/builds`; fw dev's are in `.fw/dev/builds`). */
  releasesDir?: string;
  /**
   * fw dev: a folder that holds no module (`public/`, `views/`, `sql/`) is linked into the release
   * instead of copied file by file, so a save costs the same with 5 static files or 5,000, and an
   * edit of a static file is live at once. `fw build` copies everything: a running release never
   * sees a later edit.
   */
  linkStaticFolders?: boolean;
}

/** What one module's build left: its output and what it imports. */
interface ModuleOutput {
  /**
   * The size and times, when it was built, of every file its output rests on: its source, and any
   * JSON the output holds (imported without attributes from an ES module, see own-code-plugin.ts).
   */
  stamps: [file: string, stamp: string | undefined][];
  files: ReleaseFile[];
  /** Installed packages it imports by name. */
  packages: string[];
}

/**
 * Makes releases of one app: every module transpiled on its own (esbuild; SWC for decorator
 * metadata) to the same place in the release, every other file copied, so a module finds its
 * neighbours and its files where it did in the source tree.
 *
 * A module's output depends on its own text and on which files exist (how its imports resolve),
 * so between builds (fw dev) only the modules whose source changed are built again, as long as
 * no file was added or removed and no package.json or tsconfig changed; otherwise all are.
 */
export class ReleaseBuilder {
  private readonly appDir: string;
  private readonly entryFile: string;
  /** The app's folder and the linked workspace packages found so far. */
  private roots: string[];
  /** The last build of each module, by its source path. */
  private readonly modules = new Map<string, ModuleOutput>();
  /** The files and settings the cached outputs were built against. */
  private shape = '';
  private findings: ImportFindings = { newRoots: new Set(), packages: new Map(), inlined: new Map() };
  private tsconfigs = new TsconfigLookup();
  /** Where releases are written: esbuild is told a folder at the same depth, so source maps point at the sources. */
  private readonly releasesDir: string;

  constructor(appDir: string, entry: string, private readonly settings: ReleaseBuilderOptions = {}) {
    this.appDir = path.resolve(appDir);
    this.entryFile = path.resolve(this.appDir, entry);
    this.roots = [this.appDir];
    this.releasesDir = settings.releasesDir ?? appPaths(this.appDir).builds;
  }

  async build(): Promise<Release> {
    if (!existsSync(this.entryFile)) {
      const entry = path.relative(this.appDir, this.entryFile);
      throw new MissingEntryError(`entry ${entry} not found in ${this.appDir}: create it, or set "entry" in fw.config.ts or --entry`);
    }
    for (let pass = 1; ; pass++) {
      this.findings = { newRoots: new Set(), packages: new Map(), inlined: new Map() };
      const release = await this.pass();
      const added = [...this.findings.newRoots].filter((root) => !this.roots.includes(root));
      if (added.length === 0) return release;
      if (pass >= MAX_PASSES) throw new BuildError(`the imports kept reaching new packages after ${MAX_PASSES} passes: ${added.join(', ')}\n`);
      // Imports reached a linked package: its files join the release; build again with them.
      this.roots = [...this.roots, ...added];
    }
  }

  /** Forgets the cached outputs (esbuild's own service stays, shared by the process). */
  async dispose(): Promise<void> {
    this.modules.clear();
    this.shape = '';
  }

  private async pass(): Promise<Release> {
    const root = commonAncestor(this.roots);
    const tree = await readSourceTree(this.roots);
    const linked = this.settings.linkStaticFolders ? staticFolders(tree, this.roots) : new Set<string>();
    // A file in a linked folder is never copied: no need to look at it on every save.
    const copied = linked.size > 0 ? tree.assets.filter((asset) => !inAny(asset, linked)) : tree.assets;
    const [scriptStamps, assetStamps] = await Promise.all([stampAll(tree.scripts), stampAll(copied)]);
    // Inlined JSON may sit in a linked folder, whose files were not looked at: look at it alone.
    const stampOf = (file: string) => scriptStamps.get(file) ?? assetStamps.get(file) ?? stampNow(file);
    const shape = shapeOf(root, tree, assetStamps);
    if (shape !== this.shape) {
      this.modules.clear();
      this.tsconfigs = new TsconfigLookup();
    }
    this.shape = shape;

    const formats = new ModuleFormats();
    const stale = new Map<string, string[]>();
    for (const script of tree.scripts) {
      const built = this.modules.get(script);
      if (built?.stamps.every(([file, stamp]) => stampOf(file) === stamp)) continue;
      const key = `${formats.of(script)}${path.extname(releaseName(script))}`;
      const group = stale.get(key);
      if (group) group.push(script);
      else stale.set(key, [script]);
    }
    const outcomes = await Promise.all([...stale].map(([key, entries]) => this.transpile(key, entries, root, stampOf)));
    const warnings = outcomes.flatMap((outcome) => outcome.warnings);
    const errors = outcomes.flatMap((outcome) => outcome.errors);
    if (errors.length > 0) {
      // esbuild reports a failed build as a whole: build every stale module again next time.
      for (const [, entries] of stale) for (const entry of entries) this.modules.delete(entry);
      throw new BuildError(await formatMessages(errors, 'error'));
    }

    const files: ReleaseFile[] = [];
    const packages = new Set<string>();
    for (const script of tree.scripts) {
      const built = this.modules.get(script);
      if (!built) continue; // removed while building: the next build sees it gone
      files.push(...built.files);
      for (const name of built.packages) packages.add(name);
    }
    for (const folder of linked) {
      files.push({ path: toPosix(path.relative(root, folder)), link: folder, stamp: `link:${folder}` });
    }
    files.push(...this.packageTypes(root, tree, formats));
    for (const source of copied) {
      const stamp = assetStamps.get(source);
      if (stamp !== undefined) files.push({ path: toPosix(path.relative(root, source)), source, stamp });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const entrySource = path.relative(root, this.entryFile);
    const entry = toPosix(isTranspiled(this.entryFile) ? releaseName(entrySource) : entrySource);
    return {
      root,
      entry,
      source: toPosix(path.relative(this.appDir, this.entryFile)),
      files,
      nodeModules: nodeModulesFolders(this.roots, root),
      hash: releaseHash(files, entry),
      roots: [...this.roots],
      packages: [...packages].sort(),
      warnings: warnings.length > 0 ? await formatMessages(warnings, 'warning') : '',
    };
  }

  /**
   * A root without a package.json of its own (a `paths` alias into a plain folder) gets one in the
   * release that says the format its modules were built in: in the release, Node would otherwise
   * find the app's package.json above it and may read them the other way.
   */
  private packageTypes(root: string, tree: SourceTree, formats: ModuleFormats): ReleaseFile[] {
    const made: ReleaseFile[] = [];
    for (const folder of this.roots) {
      if (tree.assets.includes(path.join(folder, 'package.json'))) continue;
      const type = formats.of(path.join(folder, 'index.js')) === 'esm' ? 'module' : 'commonjs';
      const contents = new TextEncoder().encode(`${JSON.stringify({ type })}\n`);
      made.push({ path: toPosix(path.join(path.relative(root, folder), 'package.json')), contents, stamp: `type:${type}` });
    }
    return made;
  }

  /** Builds these modules (all of one output kind) and caches each one's outputs. */
  private async transpile(key: string, entries: string[], root: string, stampOf: (file: string) => string | undefined): Promise<{ warnings: Message[]; errors: Message[] }> {
    const esbuild = await import('esbuild');
    const outdir = this.outputFolder();
    let result: Awaited<ReturnType<typeof esbuild.build>>;
    try {
      result = await esbuild.build(this.options(key, entries, root));
    } catch (error) {
      const messages = (error as { errors?: Message[] }).errors;
      if (Array.isArray(messages) && messages.length > 0) return { warnings: [], errors: messages };
      throw error;
    }
    // Each output is named after its source: `src/a.ts` gives `src/a.js`.
    const extension = key.slice(3);
    const sourceOf = new Map(entries.map((entry) => [toPosix(path.relative(root, entry.replace(/\.[^./]+$/, extension))), entry]));
    const outputs = new Map<string, ReleaseFile[]>(entries.map((entry) => [entry, []]));
    for (const file of result.outputFiles ?? []) {
      const made = { path: toPosix(path.relative(outdir, file.path)), contents: file.contents, stamp: file.hash };
      const source = sourceOf.get(made.path);
      if (source) outputs.get(source)!.push(made);
    }
    for (const [source, files] of outputs) {
      const restsOn = [source, ...(this.findings.inlined.get(source) ?? [])];
      this.modules.set(source, {
        stamps: restsOn.map((file) => [file, stampOf(file)]),
        files,
        packages: [...(this.findings.packages.get(source) ?? [])],
      });
    }
    return { warnings: result.warnings, errors: [] };
  }

  /**
   * esbuild names each output after its source's place under the root, in a folder beside the
   * releases (nothing is written there: `write: false`). A source map names its sources relative to
   * its module, so one made for a folder at the depth of the release points at the `.ts` files the
   * developer edits: a worker's stack shows them.
   */
  private outputFolder(): string {
    return path.join(this.releasesDir, 'next');
  }

  private options(key: string, entries: string[], root: string): BuildOptions {
    const format = key.slice(0, 3) as ModuleFormat;
    const plugins: Plugin[] = [
      ownCodePlugin({
        roots: () => this.roots,
        findings: () => this.findings,
        format,
        hasPathAlias: (dir, specifier) => this.tsconfigs.hasPathAlias(dir, specifier),
      }),
    ];
    if (this.tsconfigs.wantsMetadata(this.roots)) plugins.push(decoratorMetadataPlugin(this.tsconfigs));
    plugins.push(computedImportsPlugin());
    return {
      entryPoints: entries,
      outdir: this.outputFolder(),
      outbase: root,
      outExtension: { '.js': key.slice(3) },
      absWorkingDir: this.appDir,
      // Bundling, so that every import passes through the plugin, which leaves each one external:
      // every output is exactly one module.
      bundle: true,
      platform: 'node',
      format,
      target: `node${process.versions.node.split('.')[0]}`,
      // Node 20.10+ reads `with { type: 'json' }` (fw needs 20.19); esbuild's table would drop it for node20.
      supported: { 'import-attributes': true },
      // Inline: one file per module (a save in fw dev links half as many files), read with it.
      sourcemap: 'inline',
      sourcesContent: false,
      write: false,
      logLevel: 'silent',
      // A computed require stays a call Node resolves at run time (see computed-imports.ts).
      logOverride: { 'unsupported-require-call': 'silent', 'unsupported-dynamic-import': 'silent' },
      plugins,
    };
  }
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

/** JavaScript a module may import relative to itself: a folder holding one is never linked. */
const MODULE_FILE = /\.(?:[cm]?js|node)$/;

/**
 * The topmost folders below the roots that hold no module (transpiled or JavaScript) anywhere
 * inside. A module in such a folder would be loaded from its real path, not the release's, and
 * its relative imports would miss.
 */
function staticFolders(tree: SourceTree, roots: readonly string[]): Set<string> {
  const holdsModules = new Set<string>();
  for (const file of [...tree.scripts, ...tree.assets.filter((asset) => MODULE_FILE.test(asset))]) {
    for (let dir = path.dirname(file); !holdsModules.has(dir); dir = path.dirname(dir)) {
      holdsModules.add(dir);
      if (roots.includes(dir) || path.dirname(dir) === dir) break;
    }
  }
  const folders = new Set<string>();
  for (const asset of tree.assets) {
    const root = roots.find((each) => asset.startsWith(each + path.sep));
    if (!root) continue;
    // The first folder below the root, on the way down to the file, that holds no module.
    let folder: string | undefined;
    for (let dir = path.dirname(asset); dir !== root && dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
      if (!holdsModules.has(dir)) folder = dir;
    }
    if (folder) folders.add(folder);
  }
  return folders;
}

function inAny(file: string, folders: ReadonlySet<string>): boolean {
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) if (folders.has(dir)) return true;
  return false;
}

/** Size and times of each file (none for one removed since the tree was read). */
async function stampAll(files: readonly string[]): Promise<Map<string, string>> {
  const stamps = new Map<string, string>();
  await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => null);
      if (info) stamps.set(file, stampText(info));
    }),
  );
  return stamps;
}

function stampText(info: { size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

/** What every module's output rests on besides its own text: the root, which files exist, the package.json and tsconfig files. */
function shapeOf(root: string, tree: SourceTree, assetStamps: Map<string, string>): string {
  const settings = tree.assets.filter((file) => /^(?:package\.json|[jt]sconfig.*\.json)$/.test(path.basename(file)));
  // Files an import may name: a `config.js` added beside `config.ts` changes what `./config` is.
  const importable = tree.assets.filter((file) => /\.(?:[cm]?js|json|node)$/.test(file));
  return [root, ...tree.scripts, '', ...importable, '', ...settings.map((file) => `${file}:${assetStamps.get(file)}`)].join('\0');
}

function stampNow(file: string): string | undefined {
  const info = statSync(file, { throwIfNoEntry: false });
  return info && stampText(info);
}

/** The deepest folder that holds all of `folders`. */
export function commonAncestor(folders: readonly string[]): string {
  let common = folders[0]!;
  for (const folder of folders.slice(1)) {
    while (folder !== common && !folder.startsWith(common.endsWith(path.sep) ? common : common + path.sep)) {
      common = path.dirname(common);
    }
  }
  return common;
}

/**
 * The node_modules folders a module in the source tree would search, from each root up to the
 * release's root: linked into the release at the same places, so a module in the release resolves
 * every installed package exactly as its source does.
 */
function nodeModulesFolders(roots: readonly string[], root: string): { path: string; target: string }[] {
  const found = new Map<string, string>();
  for (const start of roots) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const folder = path.join(dir, 'node_modules');
      if (!found.has(folder) && existsSync(folder)) found.set(folder, toPosix(path.relative(root, folder)));
      if (dir === root || path.dirname(dir) === dir) break;
    }
  }
  return [...found].map(([target, relative]) => ({ path: relative, target }));
}

async function formatMessages(messages: Message[], kind: 'error' | 'warning'): Promise<string> {
  const esbuild = await import('esbuild');
  return (await esbuild.formatMessages(messages, { kind, color: process.stderr.isTTY })).join('');
}
