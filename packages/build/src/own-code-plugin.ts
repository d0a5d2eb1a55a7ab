import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import type { Message, OnResolveArgs, OnResolveResult, Plugin, PluginBuild } from 'esbuild';
import { releaseName } from './module-format.js';
import { isInstalledPackage, isTranspiled } from './source-tree.js';

/** Marks esbuild.resolve() calls made by this plugin, so they are not handled by it again. */
const INNER = Symbol('fw.inner-resolve');

/** What one build learned from the imports it saw. */
export interface ImportFindings {
  /** Package folders of the app's own code found outside the known roots (linked workspace packages). */
  newRoots: Set<string>;
  /** Bare names of the installed packages each module imports (what a warm spare loads ahead of time). */
  packages: Map<string, Set<string>>;
  /** JSON files whose data a module's output holds, by module: a change to them builds it again. */
  inlined: Map<string, Set<string>>;
}

export interface OwnCodeOptions {
  /** Folders whose files are in the release: the app's, and the linked packages found so far. */
  roots: () => readonly string[];
  findings: () => ImportFindings;
  /** The format of the modules this build makes. */
  format: 'esm' | 'cjs';
  /** True when the tsconfig that governs `dir` maps `specifier` through `paths`: esbuild resolves it. */
  hasPathAlias: (dir: string, specifier: string) => boolean;
}

/**
 * The esbuild plugin that makes a bundle of one module: every import stays an import. One that
 * reaches the app's own code (a relative path, a tsconfig `paths` alias, a linked workspace
 * package) is rewritten to the relative path of that module in the release (`./routes/a` →
 * `./routes/a.js`, `@acme/shared` → `../../packages/shared/src/index.js`); one that reaches an
 * installed package or a Node built-in is left as written, for Node to resolve at run time from
 * the release (its node_modules are those of the source tree). Vite's rule for SSR: linked
 * packages are the app's code, registry packages stay external.
 */
export function ownCodePlugin(options: OwnCodeOptions): Plugin {
  return {
    name: 'fw-own-code',
    setup(build) {
      // Each build has a plugin of its own: the answers are never older than the build.
      const lookups = new Lookups();
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || args.pluginData === INNER) return undefined;
        return resolveImport(build, args, lookups, options);
      });
    },
  };
}

async function resolveImport(build: PluginBuild, args: OnResolveArgs, lookups: Lookups, options: OwnCodeOptions): Promise<OnResolveResult> {
  const specifier = args.path;
  const keep: OnResolveResult = { path: specifier, external: true };
  if (isBuiltin(specifier) || /^(?:data|https?):/.test(specifier)) return keep;
  const relative = /^\.\.?(?:\/|$)/.test(specifier) || path.isAbsolute(specifier);

  let resolved = relative ? lookups.relative(args.resolveDir, specifier) : undefined;
  if (!resolved && !relative && !options.hasPathAlias(args.resolveDir, specifier)) {
    // An installed package is left to Node without asking esbuild (the common case, and the
    // fast one); a linked package, a `paths` alias or `#imports` are resolved by esbuild.
    const where = lookups.installedPackage(args.resolveDir, specifier);
    if (where === 'installed') {
      notePackage(options, args.importer, specifier);
      return keep;
    }
  }
  /** Left to Node: a bare name is an installed (or missing) package the app imports. */
  const external = () => {
    if (!relative && !specifier.startsWith('#')) notePackage(options, args.importer, specifier);
    return keep;
  };
  if (!resolved) {
    const result = await lookups.esbuild(build, args);
    if (result.errors.length > 0) {
      // A static import that names no file is the app's error, as tsc says too; a require or
      // import() may be inside a try (an optional local config): Node decides at run time.
      if (relative && args.kind === 'import-statement') return { errors: result.errors };
      return external();
    }
    if (result.external || !result.path) return external();
    resolved = result.path;
  }
  if (isInstalledPackage(resolved)) return external();
  const refused = noteRoot(resolved, options);
  if (refused) return { errors: [{ text: refused }] };
  // `import data from './data.json'` without `with { type: 'json' }`: Node refuses it in an ES
  // module, tsx and bundlers accept it. The data goes into the module, as a bundle would have it.
  if (resolved.endsWith('.json') && args.kind === 'import-statement' && args.with.type !== 'json' && options.format === 'esm') {
    addTo(options.findings().inlined, args.importer, resolved);
    return { path: resolved };
  }
  return { path: specifierBetween(args.importer, resolved), external: true };
}

function notePackage(options: OwnCodeOptions, importer: string, specifier: string): void {
  addTo(options.findings().packages, importer, packageName(specifier));
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const values = map.get(key);
  if (values) values.add(value);
  else map.set(key, new Set([value]));
}

/**
 * A module of the app's own code outside every known root: its package folder joins the release.
 * Says why when it cannot (it lies in a folder that holds the app).
 */
function noteRoot(file: string, options: OwnCodeOptions): string | undefined {
  const roots = options.roots();
  if (roots.some((root) => file.startsWith(root + path.sep))) return undefined;
  const holds = (folder: string) => roots.some((root) => root.startsWith(folder + path.sep));
  const folder = packageFolder(file);
  // A module outside the app whose nearest package.json is the monorepo's own (a `paths` alias
  // into a folder without one): its folder alone joins, not the whole repository.
  const root = holds(folder) ? path.dirname(file) : folder;
  if (holds(root)) {
    return `${file} is in a folder that holds the app itself; fw builds the app's folder and the packages it imports: move it into one of them`;
  }
  options.findings().newRoots.add(root);
  return undefined;
}

/** The nearest folder with a package.json above `file` (its own folder if there is none). */
export function packageFolder(file: string): string {
  for (let dir = path.dirname(file); ; ) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(file);
    dir = parent;
  }
}

/** The import specifier from one source module to another, as their release files will be named. */
export function specifierBetween(importer: string, target: string): string {
  const to = isTranspiled(target) ? releaseName(target) : target;
  const relative = path.relative(path.dirname(importer), to).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The order esbuild tries extensions in, for an import without one. */
const EXTENSIONS = ['.tsx', '.ts', '.jsx', '.js', '.mts', '.cts', '.mjs', '.cjs', '.json'];
/** TypeScript's convention: `./a.js` names `a.ts` when there is no `a.js`. */
const TS_FOR_JS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.jsx': ['.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'] };

/** Resolution answers for one build: folder listings, installed packages, esbuild's answers. */
class Lookups {
  private readonly listings = new Map<string, Map<string, 'file' | 'dir'>>();
  private readonly packages = new Map<string, 'installed' | 'linked' | 'missing'>();
  private readonly answers = new Map<string, Promise<{ errors: Message[]; path: string; external: boolean }>>();

  /**
   * A relative import resolved without a round trip to esbuild: the file itself, the TypeScript
   * file a `.js` import names, or an extensionless path with each extension, then as a folder's
   * index. Anything else (a folder with a package.json) is left to esbuild.
   */
  relative(resolveDir: string, specifier: string): string | undefined {
    const base = path.resolve(resolveDir, specifier);
    const ext = path.extname(base);
    const candidates = [base];
    if (TS_FOR_JS[ext]) candidates.push(...TS_FOR_JS[ext].map((ts) => base.slice(0, -ext.length) + ts));
    candidates.push(...EXTENSIONS.map((each) => base + each));
    candidates.push(...EXTENSIONS.map((each) => path.join(base, `index${each}`)));
    return candidates.find((candidate) => this.kind(candidate) === 'file');
  }

  /** Whether a bare specifier names a package installed in a node_modules folder (not a workspace link). */
  installedPackage(resolveDir: string, specifier: string): 'installed' | 'linked' | 'missing' {
    if (specifier.startsWith('#')) return 'missing';
    const name = packageName(specifier);
    const key = `${resolveDir}\0${name}`;
    let answer = this.packages.get(key);
    if (!answer) {
      answer = 'missing';
      for (let dir = resolveDir; ; ) {
        const candidate = path.join(dir, 'node_modules', name);
        if (existsSync(candidate)) {
          answer = isInstalledPackage(realpathSync(candidate)) ? 'installed' : 'linked';
          break;
        }
        const parent = path.dirname(dir);
        if (parent === dir) break;
        dir = parent;
      }
      this.packages.set(key, answer);
    }
    return answer;
  }

  esbuild(build: PluginBuild, args: OnResolveArgs) {
    const key = `${args.resolveDir}\0${args.kind}\0${args.path}`;
    let answer = this.answers.get(key);
    if (!answer) {
      answer = build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER, with: args.with });
      this.answers.set(key, answer);
    }
    return answer;
  }

  private kind(file: string): 'file' | 'dir' | undefined {
    const dir = path.dirname(file);
    let listing = this.listings.get(dir);
    if (!listing) {
      listing = new Map();
      try {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          listing.set(entry.name, entry.isDirectory() ? 'dir' : 'file');
        }
      } catch {
        // no such folder: nothing in it
      }
      this.listings.set(dir, listing);
    }
    return listing.get(path.basename(file));
  }
}
