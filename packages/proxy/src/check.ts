import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CheckResult {
  ok: boolean;
  output: string;
}

/** `nginx -t` on an http-context snippet, wrapped in a minimal main config of its own. */
export async function checkNginx(snippet: string, nginx = 'nginx'): Promise<CheckResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fw-nginx-check-'));
  try {
    await writeFile(path.join(dir, 'fw.conf'), snippet);
    await writeFile(path.join(dir, 'nginx.conf'), wrapNginx(dir, 'fw.conf'));
    return await run(nginx, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A main config that runs nginx unprivileged in `dir`, including the generated snippet. */
export function wrapNginx(dir: string, snippet: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${path.join(dir, 'body')};
    proxy_temp_path ${path.join(dir, 'proxy')};
    fastcgi_temp_path ${path.join(dir, 'fastcgi')};
    uwsgi_temp_path ${path.join(dir, 'uwsgi')};
    scgi_temp_path ${path.join(dir, 'scgi')};
    include ${snippet};
}
`;
}

/** `haproxy -c` on a complete config. */
export async function checkHaproxy(config: string, haproxy = 'haproxy'): Promise<CheckResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fw-haproxy-check-'));
  try {
    const file = path.join(dir, 'haproxy.cfg');
    await writeFile(file, config);
    return await run(haproxy, ['-c', '-f', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ ok: false, output: `${command} is not installed (not found on PATH)` });
      } else {
        resolve({ ok: !error, output });
      }
    });
  });
}
