import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkHaproxy, checkNginx, renderHaproxyConfig, renderNginxConfig, type Upstream } from '../src/index.js';

/** A missing proxy skips these with the reason; under CI=true (which installs both) that fails. */
function installed(name: string): boolean {
  try {
    execFileSync(name, ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${name} is not installed: CI must check the configs with it`);
    return false;
  }
}

const upstreamSets: [string, Upstream[]][] = [
  ['one unix socket', [{ kind: 'unix', path: '/run/fw/app.sock' }]],
  ['a TCP port', [{ kind: 'tcp', host: '127.0.0.1', port: 3000 }]],
  ['IPv6', [{ kind: 'tcp', host: '::1', port: 3000 }]],
  ['blue and green', [{ kind: 'unix', path: '/srv/app/.fw/blue.sock' }, { kind: 'unix', path: '/srv/app/.fw/green.sock' }]],
];

describe.skipIf(!installed('nginx'))('nginx -t accepts every config fw proxy nginx renders', () => {
  for (const [label, upstreams] of upstreamSets) {
    for (const listen of ['8080', '127.0.0.1:8080', '[::1]:8080']) {
      it(`${label}, listen ${listen}`, async () => {
        const config = renderNginxConfig({ name: 'my-app', listen, upstreams, gracefulTimeoutS: 30, source: '/srv/my-app' });
        const result = await checkNginx(config);
        expect(result.output).toMatch(/test is successful/);
        expect(result.ok).toBe(true);
      });
    }
  }

  it('reports what nginx rejects', async () => {
    const result = await checkNginx('upstream broken {\n');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/unexpected end of file/);
  });
});

describe.skipIf(!installed('haproxy'))('haproxy -c accepts every config fw proxy haproxy renders', () => {
  for (const [label, upstreams] of upstreamSets) {
    for (const listen of ['*:8080', '127.0.0.1:8080']) {
      it(`${label}, bind ${listen}`, async () => {
        const config = renderHaproxyConfig({
          name: 'my-app',
          listen,
          servers: upstreams.map((upstream, index) => ({ name: `s${index}`, upstream, disabled: index > 0 })),
          gracefulTimeoutS: 30,
          statsSocket: '/run/fw-test/haproxy.sock',
          stateFile: '/run/fw-test/haproxy.state',
        });
        const result = await checkHaproxy(config);
        expect(result.ok, result.output).toBe(true);
      });
    }
  }

  it('reports what haproxy rejects', async () => {
    const result = await checkHaproxy('frontend x\n    bind :notaport\n');
    expect(result.ok).toBe(false);
  });
});

describe('rendered configs', () => {
  it('nginx: keep-alive HTTP/1.1 upstream, forwarded headers, websocket upgrade, timeouts above the graceful timeout', () => {
    const config = renderNginxConfig({ name: 'my app!', listen: '8080', upstreams: upstreamSets[3]![1], gracefulTimeoutS: 30 });
    expect(config).toContain('upstream fw_my_app {');
    expect(config).toContain('    server unix:/srv/app/.fw/blue.sock max_fails=0;');
    expect(config).toContain('    keepalive_timeout 4s;');
    expect(config).toContain('proxy_http_version 1.1;');
    expect(config).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    expect(config).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(config).toContain('proxy_read_timeout 35s;');
    expect(config).toContain('proxy_next_upstream error timeout;');
    expect(config).not.toContain('non_idempotent');
  });

  it('haproxy: idle-close-on-response, master-worker, an admin runtime socket, servers by name', () => {
    const config = renderHaproxyConfig({
      name: 'app',
      listen: '*:80',
      servers: [
        { name: 'blue', upstream: { kind: 'unix', path: '/a.sock' } },
        { name: 'green', upstream: { kind: 'unix', path: '/b.sock' }, disabled: true },
      ],
      gracefulTimeoutS: 10,
      statsSocket: '/run/haproxy.sock',
      stateFile: '/run/haproxy.state',
    });
    expect(config).toContain('    server-state-file /run/haproxy.state');
    expect(config).toContain('    load-server-state-from-file global');
    expect(config).toContain('option idle-close-on-response');
    expect(config).toContain('    master-worker');
    expect(config).toContain('stats socket /run/haproxy.sock mode 600 level admin expose-fd listeners');
    expect(config).toContain('    server blue unix@/a.sock\n    server green unix@/b.sock disabled');
    expect(config).toContain('timeout server 15s');
  });
});
