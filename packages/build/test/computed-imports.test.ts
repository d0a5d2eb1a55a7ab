// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are module sources that hold template literals
import { describe, expect, it } from 'vitest';
import { hideComputedImports, mayHaveComputedImports } from '../src/computed-imports.js';

describe('hideComputedImports', () => {
  it('wraps a computed require or import argument, and nothing else', () => {
    expect(hideComputedImports("const p = require('./plugins/' + name);")).toBe("const p = require(String('./plugins/' + name));");
    expect(hideComputedImports('await import(`./routes/${name}.js`);')).toBe('await import(String(`./routes/${name}.js`));');
    expect(hideComputedImports("import('./a' + (x ? '-b' : '-c'), { with: { type: 'json' } })")).toBe("import(String('./a' + (x ? '-b' : '-c')), { with: { type: 'json' } })");
  });

  it('leaves plain strings, static imports and other calls alone', () => {
    const text = "import a from './a';\nconst b = require('./b');\nconst c = await import(`./c.js`);\nconst d = require(\"./d\");\nfoo('./x' + y);";
    expect(hideComputedImports(text)).toBe(text);
  });

  it('reads through nested templates, strings with parens and comments', () => {
    expect(hideComputedImports("require(`./${a(')')}/${`x${b}`}` /* ) */)")).toBe("require(String(`./${a(')')}/${`x${b}`}` /* ) */))");
  });

  it('says cheaply when there is nothing to look at', () => {
    expect(mayHaveComputedImports("import a from './a';")).toBe(false);
    expect(mayHaveComputedImports("require('./a')")).toBe(true);
  });
});
