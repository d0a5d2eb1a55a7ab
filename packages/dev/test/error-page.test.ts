import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeErrorPage } from '../src/error-page.js';

describe('writeErrorPage', () => {
  let appDir: string;
  beforeEach(async () => {
    appDir = await mkdtemp(path.join(tmpdir(), 'fw-error-page-'));
  });
  afterEach(async () => {
    await rm(appDir, { recursive: true, force: true });
  });

  const render = async (accept: string) => {
    const build = await writeErrorPage(appDir, 'Build failed', '\u001b[31m✘ [ERROR]\u001b[0m <script>alert(1)</script> at src/app.ts:3:1');
    const { default: page } = (await import(pathToFileURL(build.entry).href)) as { default: (req: IncomingMessage, res: ServerResponse) => void };
    let status = 0;
    let headers: Record<string, string> = {};
    let body = '';
    page({ headers: { accept } } as IncomingMessage, {
      writeHead: (code: number, sent: Record<string, string>) => {
        status = code;
        headers = sent;
      },
      end: (text: string) => {
        body = text;
      },
    } as unknown as ServerResponse);
    return { status, headers, body };
  };

  it('answers 503 with the error as text, without colour codes', async () => {
    const { status, headers, body } = await render('*/*');
    expect(status).toBe(503);
    expect(headers['content-type']).toMatch(/^text\/plain/);
    expect(body).toContain('Build failed');
    expect(body).toContain('✘ [ERROR] <script>alert(1)</script> at src/app.ts:3:1');
    expect(body).not.toContain('\u001b[');
  });

  it('answers browsers with escaped HTML', async () => {
    const { body, headers } = await render('text/html,application/xhtml+xml');
    expect(headers['content-type']).toMatch(/^text\/html/);
    expect(body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(body).not.toContain('<script>');
  });
});
