import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Loader, Plugin } from 'esbuild';

/**
 * esbuild, when bundling, turns `require('./plugins/' + name)` and ``import(`./routes/${name}.js`)``
 * into a table of the files that match at build time ("glob imports"), with no way to turn that
 * off. A release keeps every module in its place, so such a call must stay a call that Node
 * resolves at run time, beside the module in the release. Wrapping the computed argument in
 * `String(…)` hides its shape from esbuild and changes nothing at run time.
 */
const COMPUTED_CALL = /\b(?:require|import)\s*\(\s*[`'"]/g;

/** True when the text may hold a computed require or import (a cheap test before the scan). */
export function mayHaveComputedImports(text: string): boolean {
  COMPUTED_CALL.lastIndex = 0;
  return COMPUTED_CALL.test(text);
}

/** The text with every require or import whose argument is more than one plain string wrapped in `String(…)`. */
export function hideComputedImports(text: string): string {
  let out = '';
  let copied = 0;
  COMPUTED_CALL.lastIndex = 0;
  for (let match = COMPUTED_CALL.exec(text); match; match = COMPUTED_CALL.exec(text)) {
    const start = match.index + match[0].length - 1; // the opening quote
    const end = argumentEnd(text, start);
    if (end < 0) continue;
    const argument = text.slice(start, end);
    if (isPlainString(argument.trim())) continue;
    out += `${text.slice(copied, start)}String(${argument})`;
    copied = end;
    COMPUTED_CALL.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A single string literal without substitutions: what esbuild resolves as it should. */
function isPlainString(argument: string): boolean {
  return /^(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\$]|\\.|\$(?!\{))*`)$/.test(argument);
}

/**
 * Where the first argument starting at `from` ends: the `,` or `)` at depth 0, skipping strings,
 * template literals (with their `${…}`) and comments. -1 if the text ends first.
 */
function argumentEnd(text: string, from: number): number {
  let depth = 0;
  for (let index = from; index < text.length; index++) {
    const char = text[index]!;
    if (char === "'" || char === '"') index = stringEnd(text, index, char);
    else if (char === '`') index = templateEnd(text, index);
    else if (char === '/' && text[index + 1] === '/') index = text.indexOf('\n', index) < 0 ? text.length : text.indexOf('\n', index);
    else if (char === '/' && text[index + 1] === '*') index = text.indexOf('*/', index + 2) < 0 ? text.length : text.indexOf('*/', index + 2) + 1;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      if (depth === 0) return char === ')' ? index : -1;
      depth--;
    } else if (char === ',' && depth === 0) return index;
    if (index < 0) return -1;
  }
  return -1;
}

function stringEnd(text: string, start: number, quote: string): number {
  for (let index = start + 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === quote) return index;
    else if (text[index] === '\n') return -1;
  }
  return -1;
}

function templateEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    const char = text[index];
    if (char === '\\') index++;
    else if (char === '`') return index;
    else if (char === '$' && text[index + 1] === '{') {
      // A substitution: up to its matching brace, which may hold strings and templates itself.
      let depth = 0;
      for (index += 1; index < text.length; index++) {
        const inner = text[index]!;
        if (inner === "'" || inner === '"') index = stringEnd(text, index, inner);
        else if (inner === '`') index = templateEnd(text, index);
        else if (inner === '{') depth++;
        else if (inner === '}' && --depth === 0) break;
        if (index < 0) return -1;
      }
    }
  }
  return -1;
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.jsx': 'jsx' };

/** The esbuild plugin that loads a module with its computed imports hidden (see above). */
export function computedImportsPlugin(): Plugin {
  return {
    name: 'fw-computed-imports',
    setup(build) {
      build.onLoad({ filter: /\.(?:[cm]?ts|[jt]sx)$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!mayHaveComputedImports(text)) return undefined;
        return { contents: hideComputedImports(text), loader: LOADERS[path.extname(args.path)] ?? 'ts', resolveDir: path.dirname(args.path) };
      });
    },
  };
}
