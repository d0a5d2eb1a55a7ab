#!/usr/bin/env node
// fw's packages are released together, at one version:
//
//   node scripts/set-version.mjs 0.2.0    sets it: every package in packages/ gets that version,
//                                         and every workspace that depends on one of them (each
//                                         other, the example app, the tests) depends on exactly
//                                         that version; then the lockfile is brought in step
//   node scripts/set-version.mjs --check  exits 1, naming each, if they are not all in step
//
// The apps that `npm create fw` makes depend on `^<create-fw's version>`, read when they are made,
// so the templates need no edit.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
// Semantic versioning's shape: 1.2.3, 1.2.3-rc.1, 1.2.3+build.5.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Every workspace manifest: { file, json, published } (published: it lives in packages/). */
export function readWorkspaces(repoRoot = root) {
  const rootJson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const dirs = [];
  for (const pattern of rootJson.workspaces) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      for (const entry of readdirSync(path.join(repoRoot, parent), { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(path.join(parent, entry.name));
      }
    } else {
      dirs.push(pattern);
    }
  }
  return dirs
    .map((dir) => {
      const file = path.join(repoRoot, dir, 'package.json');
      try {
        return { dir, file, json: JSON.parse(readFileSync(file, 'utf8')), published: dir.startsWith('packages/') };
      } catch {
        return undefined; // a folder without a manifest (left behind by a build) is no workspace
      }
    })
    .filter((workspace) => workspace !== undefined);
}

/** Sets the version of every published package and every dependency on one. Returns what changed. */
export function setVersion(workspaces, version) {
  if (!SEMVER.test(version)) throw new Error(`"${version}" is not a version: give one like 0.2.0 or 1.0.0-rc.1`);
  const ours = new Set(workspaces.filter((w) => w.published).map((w) => w.json.name));
  const changed = [];
  for (const workspace of workspaces) {
    const before = JSON.stringify(workspace.json);
    if (workspace.published) workspace.json.version = version;
    for (const field of DEPENDENCY_FIELDS) {
      for (const name of Object.keys(workspace.json[field] ?? {})) {
        if (ours.has(name)) workspace.json[field][name] = version;
      }
    }
    if (JSON.stringify(workspace.json) !== before) changed.push(workspace);
  }
  return changed;
}

/** What is out of step: a published package at another version, or a dependency on one that is not exact. */
export function versionProblems(workspaces) {
  const published = workspaces.filter((w) => w.published);
  const versions = new Set(published.map((w) => w.json.version));
  if (versions.size !== 1) {
    return [`the packages are at ${versions.size} versions: ${published.map((w) => `${w.json.name}@${w.json.version}`).join(', ')}`];
  }
  const [version] = versions;
  const ours = new Set(published.map((w) => w.json.name));
  const problems = [];
  for (const workspace of workspaces) {
    for (const field of DEPENDENCY_FIELDS) {
      for (const [name, range] of Object.entries(workspace.json[field] ?? {})) {
        if (ours.has(name) && range !== version) {
          problems.push(`${workspace.dir}/package.json: ${field}.${name} is "${range}", not "${version}"`);
        }
      }
    }
  }
  return problems;
}

function main(args) {
  const workspaces = readWorkspaces();
  if (args[0] === '--check') {
    const problems = versionProblems(workspaces);
    for (const problem of problems) console.error(`set-version: ${problem}`);
    if (problems.length > 0) {
      console.error('set-version: run node scripts/set-version.mjs <version> to put them in step');
      process.exit(1);
    }
    console.log(`set-version: every package is at ${workspaces.find((w) => w.published).json.version}`);
    return;
  }
  if (args.length !== 1 || args[0].startsWith('-')) {
    console.error('usage: node scripts/set-version.mjs <version> | --check');
    process.exit(2);
  }
  let changed;
  try {
    changed = setVersion(workspaces, args[0]);
  } catch (error) {
    console.error(`set-version: ${error.message}`);
    process.exit(2);
  }
  for (const workspace of changed) writeFileSync(workspace.file, `${JSON.stringify(workspace.json, null, 2)}\n`);
  console.log(`set-version: ${changed.length} manifests now say ${args[0]}; updating package-lock.json`);
  // Only the lockfile: what is installed does not change until the next npm install.
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
