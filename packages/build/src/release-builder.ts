import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildContext, BuildOptions, Message, OutputFile, Plugin } from 'esbuild';
import { BuildError, MissingEntryError } from './build-errors.js';
import { decoratorMetadataPlugin, TsconfigLookup } from './decorator-metadata.js';
import { ModuleFormats, releaseName, type ModuleFormat } from './module-format.js';
import { ownCodePlugin, type ImportFindings } from './own-code-plugin.js';
import { releaseHash, type Release, type ReleaseFile } from './release.js';
import { isTranspiled, readSourceTree, type SourceTree } from './source-tree.js';

/** A linked package found through its imports makes the release wider; it settles within a few passes. */
const MAX_PASSES = 5;

export interface ReleaseBuilderOptions {
  /**
   * fw dev: a folder that holds no module (`public/`, `views/`, `sql/`) is linked into the release
   * instead of copied file by file, so a save costs the same with 5 static files or 5,000, and an
   * edit of a static file is live at once. `fw build` copies everything: a running release never
   * sees a later edit.
   */
  linkStaticFolders?: boolean;
}

/** One esbuild context per output kind: ES modules and CommonJS, `.js` and `.mjs`/`.cjs`. */
interface Group {
  key: string;
  signature: string;
  context: BuildContext;
}

/**
 * Makes releases of one app: every module transpiled on its own (esbuild; SWC for decorator
 * metadata) to the same place in the release, every other file copied, so a module finds its
 * neighbours and its files where it did in the source tree. Keeps esbuild's incremental contexts
 * between builds (fw dev): a rebuild parses only what changed.
 */
export class ReleaseBuilder {
  private readonly appDir: string;
  private readonly entryFile: string;
  /** The app's folder and the linked workspace packages found so far. */
  private roots: string[];
  private groups = new Map<string, Group>();
  private findings: ImportFindings = { newRoots: new Set(), packages: new Set() };
  private readonly tsconfigs = new TsconfigLookup();
  /** Source maps already pointed at their sources, by release path: a rebuild redoes only changed ones. */
  private readonly maps = new Map<string, { hash: string; contents: Uint8Array }>();

  constructor(appDir: string, entry: string, private readonly settings: ReleaseBuilderOptions = {}) {
    this.appDir = path.resolve(appDir);
    this.entryFile = path.resolve(this.appDir, entry);
    this.roots = [this.appDir];
  }

  async build(): Promise<Release> {
    if (!existsSync(this.entryFile)) {
      const entry = path.relative(this.appDir, this.entryFile);
      throw new MissingEntryError(`entry ${entry} not found in ${this.appDir}: create it, or set "entry" in fw.config.ts or --entry`);
    }
    for (let pass = 1; ; pass++) {
      this.findings = { newRoots: new Set(), packages: new Set() };
      const release = await this.pass();
      const added = [...this.findings.newRoots].filter((root) => !this.roots.includes(root));
      if (added.length === 0 || pass >= MAX_PASSES) return release;
      // Imports reached a linked package: its files join the release; build again with them.
      this.roots = [...this.roots, ...added];
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.groups.values()].map((group) => group.context.dispose()));
    this.groups.clear();
  }

  private async pass(): Promise<Release> {
    const root = commonAncestor(this.roots);
    const tree = await readSourceTree(this.roots);
    const formats = new ModuleFormats();
    const byGroup = new Map<string, string[]>();
    for (const script of tree.scripts) {
      const key = `${formats.of(script)}${path.extname(releaseName(script))}`;
      byGroup.set(key, [...(byGroup.get(key) ?? []), script]);
    }
    for (const [key, group] of this.groups) {
      if (!byGroup.has(key)) {
        await group.context.dispose();
        this.groups.delete(key);
      }
    }
    const outputs = await Promise.all([...byGroup].map(([key, entries]) => this.rebuild(key, entries, root)));
    const files: ReleaseFile[] = [];
    const warnings: Message[] = [];
    const errors: Message[] = [];
    for (const output of outputs) {
      files.push(...output.files);
      warnings.push(...output.warnings);
      errors.push(...output.errors);
    }
    if (errors.length > 0) throw new BuildError(await formatMessages(errors, 'error'));
    const linked = this.settings.linkStaticFolders ? staticFolders(tree, this.roots) : new Map<string, string[]>();
    const alone = linked.size > 0 ? tree.assets.filter((asset) => !inAny(asset, linked)) : tree.assets;
    for (const folder of linked.keys()) {
      files.push({ path: toPosix(path.relative(root, folder)), link: folder, stamp: `link:${folder}` });
    }
    const copied = await Promise.all(
      alone.map(async (source): Promise<ReleaseFile | undefined> => {
        const info = await stat(source).catch(() => null);
        if (!info) return undefined; // removed since the tree was read
        return { path: toPosix(path.relative(root, source)), source, stamp: `${info.size}:${info.mtimeMs}:${info.ctimeMs}` };
      }),
    );
    for (const file of copied) if (file) files.push(file);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const entrySource = path.relative(root, this.entryFile);
    const entry = toPosix(isTranspiled(this.entryFile) ? releaseName(entrySource) : entrySource);
    return {
      root,
      entry,
      source: toPosix(entrySource),
      files,
      nodeModules: nodeModulesFolders(this.roots, root),
      hash: releaseHash(files, entry),
      roots: [...this.roots],
      packages: [...this.findings.packages].sort(),
      warnings: warnings.length > 0 ? await formatMessages(warnings, 'warning') : '',
    };
  }

  private async rebuild(key: string, entries: string[], root: string): Promise<{ files: ReleaseFile[]; warnings: Message[]; errors: Message[] }> {
    const signature = `${root}\0${entries.join('\0')}`;
    let group = this.groups.get(key);
    if (group && group.signature !== signature) {
      // Files were added or removed, or the root moved: esbuild's entry points are fixed per context.
      await group.context.dispose();
      group = undefined;
    }
    if (!group) {
      const esbuild = await import('esbuild');
      group = { key, signature, context: await esbuild.context(this.options(key, entries, root)) };
      this.groups.set(key, group);
    }
    const outdir = outputFolder(root);
    try {
      const result = await group.context.rebuild();
      return { files: (result.outputFiles ?? []).map((file) => this.releaseFile(file, outdir)), warnings: result.warnings, errors: [] };
    } catch (error) {
      const messages = (error as { errors?: Message[] }).errors;
      if (Array.isArray(messages) && messages.length > 0) return { files: [], warnings: [], errors: messages };
      throw error;
    }
  }

  private releaseFile(file: OutputFile, outdir: string): ReleaseFile {
    const relative = toPosix(path.relative(outdir, file.path));
    if (!relative.endsWith('.map')) return { path: relative, contents: file.contents, stamp: file.hash };
    const known = this.maps.get(relative);
    if (known?.hash === file.hash) return { path: relative, contents: known.contents, stamp: file.hash };
    const contents = pointMapAtSources(file, path.dirname(file.path));
    this.maps.set(relative, { hash: file.hash, contents });
    return { path: relative, contents, stamp: file.hash };
  }

  private options(key: string, entries: string[], root: string): BuildOptions {
    const format = key.slice(0, 3) as ModuleFormat;
    const plugins: Plugin[] = [ownCodePlugin({ roots: () => this.roots, findings: () => this.findings })];
    if (this.tsconfigs.wantsMetadata(this.roots)) plugins.push(decoratorMetadataPlugin(this.tsconfigs));
    return {
      entryPoints: entries,
      outdir: outputFolder(root),
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
      sourcemap: 'linked',
      sourcesContent: false,
      write: false,
      logLevel: 'silent',
      plugins,
    };
  }
}

/**
 * esbuild names each output after its source's place under the root (nothing is written there:
 * `write: false`); the release folder mirrors the root.
 */
function outputFolder(root: string): string {
  return root;
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

/** JavaScript a module may import relative to itself: a folder holding one is never linked. */
const MODULE_FILE = /\.(?:[cm]?js|node)$/;

/**
 * The topmost folders below the roots that hold no module (transpiled or JavaScript) anywhere
 * inside: their real paths, each with the files it holds. A module in such a folder would be
 * loaded from its real path, not the release's, and its relative imports would miss.
 */
function staticFolders(tree: SourceTree, roots: readonly string[]): Map<string, string[]> {
  const holdsModules = new Set<string>();
  for (const file of [...tree.scripts, ...tree.assets.filter((asset) => MODULE_FILE.test(asset))]) {
    for (let dir = path.dirname(file); !holdsModules.has(dir); dir = path.dirname(dir)) {
      holdsModules.add(dir);
      if (roots.includes(dir) || path.dirname(dir) === dir) break;
    }
  }
  const folders = new Map<string, string[]>();
  for (const asset of tree.assets) {
    const root = roots.find((each) => asset.startsWith(each + path.sep));
    if (!root) continue;
    // The first folder below the root, on the way down to the file, that holds no module.
    let folder: string | undefined;
    for (let dir = path.dirname(asset); dir !== root && dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
      if (!holdsModules.has(dir)) folder = dir;
    }
    if (!folder) continue;
    const files = folders.get(folder);
    if (files) files.push(asset);
    else folders.set(folder, [asset]);
  }
  return folders;
}

function inAny(file: string, folders: Map<string, string[]>): boolean {
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) if (folders.has(dir)) return true;
  return false;
}

/**
 * A source map names its sources relative to itself; in the release that would be a path inside
 * the release, where no `.ts` file is. Absolute file URLs make a worker's stack show the source
 * file the developer edits, wherever the release lies.
 */
function pointMapAtSources(file: OutputFile, mapDir: string): Uint8Array {
  const map = JSON.parse(file.text) as { sources?: string[] };
  map.sources = (map.sources ?? []).map((source) => (/^[a-z]+:/i.test(source) ? source : pathToFileURL(path.resolve(mapDir, source)).href));
  return new TextEncoder().encode(JSON.stringify(map));
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
