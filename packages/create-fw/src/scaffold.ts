import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import validateNpmPackageName from 'validate-npm-package-name';
import { CancelledError, CreateError } from './errors.js';
import { checkTemplate, templatesDir, type TemplateName } from './templates.js';

/** This package's version: fw and its packages are released together, so it is fw's too. */
export const FW_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** What a folder may hold and still count as empty. */
const IGNORED_IN_TARGET = new Set(['.git', '.DS_Store', 'Thumbs.db']);
/** Never copied from a template folder (left there by someone trying the template out in place). */
const SKIPPED_IN_TEMPLATE = new Set(['node_modules', '.fw', '.turbo', 'package-lock.json', 'test-results.json']);
/** Stored under another name, because npm would drop or rename the real one when publishing. */
const RENAMED = new Map([['_gitignore', '.gitignore']]);

export interface ScaffoldOptions {
  /** Where the app goes; created (with any missing parents) if it does not exist. */
  targetDir: string;
  /** A template name (see TEMPLATES). */
  template: string;
  /** The app's npm package name. Default: the target folder's name. */
  name?: string;
  /** Write into a folder that is not empty: the template's files replace same-named ones, the rest stay. */
  force?: boolean;
  /** The fw version the app depends on (`^version`). Default: this package's version. */
  fwVersion?: string;
  /** Aborting stops the copy and removes everything it had created. */
  signal?: AbortSignal;
}

export interface ScaffoldResult {
  targetDir: string;
  name: string;
  template: TemplateName;
  /** The files written, relative to targetDir, sorted. */
  files: string[];
}

interface PlannedFile {
  relative: string;
  content: string | Buffer;
}

/**
 * Copies a template into a folder and fills in the app's name and the fw version. Every check
 * (template, name, folder) happens before anything is written; a refusal is a CreateError with a
 * one-line message and touches nothing. A failure or an abort while writing removes what this
 * call created.
 */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const template = checkTemplate(options.template);
  const targetDir = path.resolve(options.targetDir);
  const name = options.name ?? appNameFor(targetDir);
  const nameError = nameProblem(name);
  if (nameError) throw new CreateError(nameError);
  const targetError = targetProblem(targetDir, { force: options.force });
  if (targetError) throw new CreateError(targetError);

  const fwVersion = options.fwVersion ?? FW_VERSION;
  const planned: PlannedFile[] = [];
  for (const { relative, source } of await templateFiles(template)) {
    planned.push({ relative, content: render(relative, await readFile(source), { name, fwVersion }) });
  }
  await writeFiles(targetDir, planned, options.signal);
  return { targetDir, name, template, files: planned.map((file) => file.relative).sort() };
}

/** The npm package name an app in this folder gets: the folder's own name. */
export function appNameFor(targetDir: string): string {
  return path.basename(path.resolve(targetDir));
}

/** Why `name` cannot be the app's npm package name, in one line; undefined when it can. */
export function nameProblem(name: string): string | undefined {
  const result = validateNpmPackageName(name);
  if (result.validForNewPackages) return undefined;
  const reason = [...(result.errors ?? []), ...(result.warnings ?? [])][0] ?? 'it is not one';
  return `"${name}" is not a valid npm package name (${reason}): the app is named after its folder, so pick another folder name`;
}

/** Why the app cannot go into `targetDir`, in one line; undefined when it can. Reads, never writes. */
export function targetProblem(targetDir: string, options: { force?: boolean | undefined } = {}): string | undefined {
  const shown = displayPath(targetDir);
  if (!existsSync(targetDir)) return undefined;
  if (!statSync(targetDir).isDirectory()) return `${shown} exists and is not a folder: pick another folder`;
  if (options.force) return undefined;
  const entries = readdirSync(targetDir).filter((entry) => !IGNORED_IN_TARGET.has(entry));
  if (entries.length === 0) return undefined;
  return `folder ${shown} is not empty: pick another folder, or pass --force to write the template's files into it`;
}

/** A folder as the person typed it: relative to the current folder when inside it. */
export function displayPath(targetDir: string): string {
  const relative = path.relative(process.cwd(), path.resolve(targetDir));
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(targetDir) : relative;
}

/** Every file of a template: its path in the new app, and where it comes from. */
export async function templateFiles(template: TemplateName): Promise<{ relative: string; source: string }[]> {
  const root = path.join(templatesDir, template);
  const found: { relative: string; source: string }[] = [];
  const walk = async (folder: string, relativeFolder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (SKIPPED_IN_TEMPLATE.has(entry.name)) continue;
      const source = path.join(folder, entry.name);
      const relative = path.join(relativeFolder, RENAMED.get(entry.name) ?? entry.name);
      if (entry.isDirectory()) await walk(source, relative);
      else if (entry.isFile()) found.push({ relative, source });
    }
  };
  await walk(root, '');
  return found;
}

/** Fills in what depends on the app: its name in package.json and README.md, fw's version. */
function render(relative: string, content: Buffer, values: { name: string; fwVersion: string }): string | Buffer {
  if (relative === 'package.json') {
    const manifest = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
    manifest.name = values.name;
    for (const field of ['dependencies', 'devDependencies']) {
      const dependencies = manifest[field] as Record<string, string> | undefined;
      for (const dependency of Object.keys(dependencies ?? {})) {
        if (dependencies && isFwPackage(dependency)) dependencies[dependency] = `^${values.fwVersion}`;
      }
    }
    return `${JSON.stringify(manifest, null, 2)}\n`;
  }
  if (relative === 'README.md') return content.toString('utf8').replaceAll('{{name}}', values.name);
  return content;
}

function isFwPackage(name: string): boolean {
  return name === 'fw' || name === 'fwjs' || name === 'create-fw' || name.startsWith('@fwjs/');
}

/** Writes the files; on any failure or abort, removes every file and folder it created. */
async function writeFiles(targetDir: string, files: PlannedFile[], signal: AbortSignal | undefined): Promise<void> {
  const created: string[] = [];
  const checkAborted = () => {
    if (signal?.aborted) throw new CancelledError();
  };
  try {
    await makeFolders(targetDir, created);
    for (const file of files) {
      checkAborted();
      const destination = path.join(targetDir, file.relative);
      await makeFolders(path.dirname(destination), created);
      const existed = existsSync(destination);
      await writeFile(destination, file.content);
      if (!existed) created.push(destination);
    }
    checkAborted();
  } catch (error) {
    for (const entry of created.reverse()) await rm(entry, { recursive: true, force: true });
    throw error;
  }
}

/** mkdir -p that remembers which folders it made. */
async function makeFolders(folder: string, created: string[]): Promise<void> {
  const missing: string[] = [];
  for (let current = path.resolve(folder); !existsSync(current); current = path.dirname(current)) missing.unshift(current);
  for (const each of missing) {
    await mkdir(each);
    created.push(each);
  }
}
