import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildRef } from '@fwjs/core';
import { appPaths } from '@fwjs/core';

let count = 0;

/**
 * While no version of the app has booted, the port still answers: with a 503 whose body shows why.
 * The page is itself a tiny build (a request listener) rolled out like any other, so the master
 * never accepts a connection itself.
 */
export async function writeErrorPage(appDir: string, title: string, detail: string): Promise<BuildRef> {
  const id = `error-${++count}`;
  const folder = path.join(appPaths(appDir).devBuilds, id);
  await mkdir(folder, { recursive: true });
  const text = `${title}\n\n${stripAnsi(detail)}`;
  const html = `<!doctype html><meta charset="utf-8"><title>fw dev: ${escapeHtml(title)}</title>` +
    `<body style="font:14px/1.5 ui-monospace,monospace;margin:2em;background:#fff5f5;color:#400">` +
    `<h1 style="font-size:18px">${escapeHtml(title)}</h1><pre style="white-space:pre-wrap">${escapeHtml(stripAnsi(detail))}</pre>` +
    `<p>fw dev reloads this page's server as soon as you save a fix.</p></body>`;
  const source = `const text = ${JSON.stringify(text)};
const html = ${JSON.stringify(html)};
export default function errorPage(req, res) {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  res.writeHead(503, { 'content-type': wantsHtml ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8', 'retry-after': '1', 'cache-control': 'no-store' });
  res.end(wantsHtml ? html : text);
}
`;
  const entry = path.join(folder, 'error-page.mjs');
  await writeFile(entry, source);
  return { id, entry };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are exactly what is removed
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
