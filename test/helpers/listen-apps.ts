/**
 * Apps that call `listen` themselves, for test/listen-entries.test.ts, written as their own
 * ecosystems write them: Express's `app.listen(PORT)`, Koa's `app.listen`, Hono's `serve()` from
 * @hono/node-server, Fastify's top-level `await app.listen({ port })`, the app `nest new` makes
 * (CommonJS with Nest 11, an ES module with Nest 12), and plain node:http entries that never listen
 * or listen twice. Each one exports nothing: fw must serve the server the app listened.
 *
 * Every app answers with the version in `const VERSION = '…';` (the Nest apps: the string their
 * service returns), so an edit of that line is a new version, and prints one line with the port
 * it was given once it listens (its own callback or `await`), so a test can see the app learned
 * fw's port.
 */
import { appPackage, appTsconfig, esModules, fwScripts, fwVersion, gitignore, json, writeTree } from './written-apps.js';

/** The source line that says which version an app answers with: what an edit changes. */
export const versionLine = (version: string) => `const VERSION = '${version}';`;

/** An ES module TypeScript app's package.json and tsconfig.json (as the ESM app of apps-as-written's), and its .gitignore. */
function esmAppFiles(name: string, dependencies: Record<string, string>, devDependencies: Record<string, string> = {}) {
  return { 'package.json': appPackage({ name, type: 'module', dependencies, devDependencies }), 'tsconfig.json': appTsconfig(esModules), '.gitignore': gitignore };
}

// ---------------------------------------------------------------------------------------------
// Express 5

/**
 * Express 5, an ES module: `src/server.ts` builds the app, calls `app.listen(PORT ?? 3000)` and,
 * on SIGTERM, closes its server and exits, logging both steps with its pid. `GET /` answers the
 * version, `GET /env` what the worker was told (`PORT`, `HOST`) and the port the server has.
 */
export async function writeExpressApp(dir: string): Promise<void> {
  await writeTree(dir, {
    ...esmAppFiles('express-app', { express: '^5.2.1' }, { '@types/express': '^5.0.6' }),
    'src/server.ts': `import type { AddressInfo } from 'node:net';
import express from 'express';

${versionLine('v1')}

const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'express', version: VERSION });
});
app.get('/env', (_req, res) => {
  res.json({ PORT: process.env.PORT, HOST: process.env.HOST, port: (server.address() as AddressInfo).port });
});

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(\`express \${VERSION} listening on port \${(server.address() as AddressInfo).port}\`);
});

process.on('SIGTERM', () => {
  console.log(\`express \${VERSION} (pid \${process.pid}): SIGTERM, closing the server\`);
  server.close(() => {
    console.log(\`express \${VERSION} (pid \${process.pid}): closed\`);
    process.exit(0);
  });
});
`,
  });
}

// ---------------------------------------------------------------------------------------------
// Koa, Hono, Fastify

export interface FrameworkApp {
  name: 'koa' | 'hono' | 'fastify';
  /** Where fw finds it without --entry. */
  entry: 'src/server.ts' | 'src/index.ts';
  /** The line the app prints once it listens, on `port`. */
  listening(port: string): string;
  write(dir: string): Promise<void>;
}

export const frameworkApps: FrameworkApp[] = [
  {
    name: 'koa',
    entry: 'src/server.ts',
    listening: (port) => `koa listening on port ${port}`,
    write: (dir) =>
      writeTree(dir, {
        ...esmAppFiles('koa-app', { koa: '^3.1.0' }, { '@types/koa': '^3.0.0' }),
        'src/server.ts': `import type { AddressInfo } from 'node:net';
import Koa from 'koa';

${versionLine('v1')}

const app = new Koa();
app.use(async (ctx) => {
  ctx.body = { hello: 'koa', version: VERSION };
});

const server = app.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(\`koa listening on port \${(server.address() as AddressInfo).port}\`);
});
`,
      }),
  },
  {
    // As the Node.js template of \`npm create hono\` writes it: src/index.ts.
    name: 'hono',
    entry: 'src/index.ts',
    listening: (port) => `Server is running on http://localhost:${port}`,
    write: (dir) =>
      writeTree(dir, {
        ...esmAppFiles('hono-app', { '@hono/node-server': '^2.1.0', hono: '^4.10.0' }),
        'src/index.ts': `import { serve } from '@hono/node-server';
import { Hono } from 'hono';

${versionLine('v1')}

const app = new Hono();
app.get('/', (c) => c.json({ hello: 'hono', version: VERSION }));

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(\`Server is running on http://localhost:\${info.port}\`);
});
`,
      }),
  },
  {
    // Top-level await: the module's evaluation ends only once it listens. Default host: 'localhost'.
    name: 'fastify',
    entry: 'src/server.ts',
    listening: (port) => `fastify listening on port ${port}`,
    write: (dir) =>
      writeTree(dir, {
        ...esmAppFiles('fastify-app', { fastify: '^5.6.0' }),
        'src/server.ts': `import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

${versionLine('v1')}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } });
app.get('/', async () => ({ hello: 'fastify', version: VERSION }));

await app.listen({ port: Number(process.env.PORT ?? 3000) });
console.log(\`fastify listening on port \${(app.server.address() as AddressInfo).port}\`);
`,
      }),
  },
];

// ---------------------------------------------------------------------------------------------
// The app `nest new` makes

export interface NestShape {
  shape: 'cjs' | 'esm';
  /** The generator whose output this is. */
  generator: string;
  /** What `GET /` answers as generated. */
  hello: string;
}

/**
 * `nest new` of @nestjs/cli 11 (its only shape: CommonJS, no "type") and of @nestjs/cli 12 (its
 * default: an ES module with `.js` imports and a top-level `await bootstrap()`).
 */
export const nestShapes: NestShape[] = [
  { shape: 'cjs', generator: '@nestjs/cli@11.0.13', hello: 'Hello World!' },
  { shape: 'esm', generator: '@nestjs/cli@12.0.8', hello: 'Hello World!' },
];

/** The compilerOptions both versions of `nest new` write first, in their order. */
const nestCompilerOptions = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
};

/** The rest of @nestjs/cli 12's (an ES module app; `vitest/globals` left out of its types). */
const nestEsmCompilerOptions = {
  rootDir: '.',
  incremental: true,
  skipLibCheck: true,
  strict: true,
  strictPropertyInitialization: false,
  types: ['node'],
};

/** The rest of @nestjs/cli 11's (CommonJS). */
const nestCommonJsCompilerOptions = {
  baseUrl: './',
  incremental: true,
  skipLibCheck: true,
  strictNullChecks: true,
  forceConsistentCasingInFileNames: true,
  noImplicitAny: false,
  strictBindCallApply: false,
  noFallthroughCasesInSwitch: false,
};

/**
 * The sources, tsconfig.json, tsconfig.build.json and nest-cli.json exactly as
 * `npx @nestjs/cli@<version> new <name> --skip-git --skip-install --package-manager npm` writes them
 * (for 12: `--no-observe`); its package.json's `dependencies` as written (Nest, reflect-metadata,
 * rxjs) with fw added. Left out: the spec files and the toolchain they need (jest or vitest, the
 * Nest CLI, linters), so the devDependencies are the generated TypeScript and types only, the
 * scripts fw's, and the ES module tsconfig's types lose `vitest/globals`.
 */
export async function writeNestApp(dir: string, shape: NestShape['shape']): Promise<void> {
  const esm = shape === 'esm';
  const js = esm ? '.js' : '';
  const nest = esm ? '^12.0.1' : '^11.0.1';
  await writeTree(dir, {
    'package.json': json({
      name: `nest-${shape}-app`,
      version: '0.0.1',
      description: '',
      author: '',
      private: true,
      license: 'UNLICENSED',
      ...(esm ? { type: 'module' } : {}),
      scripts: { ...fwScripts, 'start:prod': 'node dist/main' },
      dependencies: {
        '@nestjs/common': nest,
        '@nestjs/core': nest,
        '@nestjs/platform-express': nest,
        fwjs: `^${fwVersion}`,
        'reflect-metadata': '^0.2.2',
        rxjs: '^7.8.1',
      },
      devDependencies: { '@types/express': '^5.0.0', '@types/node': '^24.0.0', typescript: esm ? '^6.0.2' : '^5.7.3' },
    }),
    'tsconfig.json': json({ compilerOptions: { ...nestCompilerOptions, ...(esm ? nestEsmCompilerOptions : nestCommonJsCompilerOptions) } }),
    'tsconfig.build.json': esm
      ? json({ extends: './tsconfig.json', compilerOptions: { rootDir: './src' }, include: ['src'], exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'] })
      : json({ extends: './tsconfig.json', exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'] }),
    'nest-cli.json': json({
      $schema: 'https://json.schemastore.org/nest-cli',
      collection: '@nestjs/schematics',
      sourceRoot: 'src',
      compilerOptions: { deleteOutDir: true },
    }),
    '.gitignore': gitignore,
    'src/main.ts': `import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module${js}';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  await app.listen(process.env.PORT ?? 3000);
}
${esm ? 'await bootstrap();' : 'bootstrap();'}
`,
    'src/app.module.ts': `import { Module } from '@nestjs/common';
import { AppController } from './app.controller${js}';
import { AppService } from './app.service${js}';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`,
    'src/app.controller.ts': `import { Controller, Get } from '@nestjs/common';
import { AppService } from './app.service${js}';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get()
  getHello(): string {
    return this.appService.getHello();
  }
}
`,
    'src/app.service.ts': `import { Injectable } from '@nestjs/common';

@Injectable()
export class AppService {
  getHello(): string {
    return 'Hello World!';
  }
}
`,
  });
}

/** The edits that turn on Nest's shutdown hooks, with a hook that logs the answer it served and its pid. */
export const nestShutdownHooks = {
  main: {
    from: 'const app = await NestFactory.create(AppModule);',
    to: 'const app = await NestFactory.create(AppModule);\n  app.enableShutdownHooks();',
  },
  serviceImport: {
    from: "import { Injectable } from '@nestjs/common';",
    to: "import { Injectable, OnApplicationShutdown } from '@nestjs/common';",
  },
  service: {
    from: 'export class AppService {',
    to: `export class AppService implements OnApplicationShutdown {
  onApplicationShutdown(signal?: string) {
    console.log(\`AppService (\${this.getHello()}) shut down on \${signal} (pid \${process.pid})\`);
  }
`,
  },
};

// ---------------------------------------------------------------------------------------------
// node:http entries that never listen, listen twice, or listen late in CommonJS

/** An ES module app with nothing but fw and TypeScript; its src/server.ts is one of `plainServers`. */
export async function writePlainApp(dir: string): Promise<void> {
  await writeTree(dir, {
    ...esmAppFiles('plain-app', {}),
    'src/server.ts': plainServers.good('v1'),
  });
}

export const plainServers = {
  /** Listens on PORT; answers its version. */
  good: (version: string) => `import { createServer } from 'node:http';

${versionLine(version)}

createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version: VERSION }));
}).listen(Number(process.env.PORT ?? 3000));
`,
  /**
   * Cleans up on SIGTERM, then removes its handler and re-raises the signal to end of it (as Nest's
   * shutdown hooks do: `process.kill(process.pid, signal)`), while a timer it never clears (a
   * metrics flush, say) would keep the process alive otherwise.
   */
  reraisesSigterm: (version: string) => `import { createServer } from 'node:http';

${versionLine(version)}

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version: VERSION }));
}).listen(Number(process.env.PORT ?? 3000));

setInterval(() => undefined, 1_000);

process.on('SIGTERM', function onSigterm(signal) {
  console.log(\`\${VERSION} (pid \${process.pid}): SIGTERM, closing, then re-raising it\`);
  process.off('SIGTERM', onSigterm);
  server.close(() => process.kill(process.pid, signal));
});
`,
  /** A job runner mistaken for a server: it starts, logs and keeps running, and never listens. */
  neverListens: `console.log('server.ts: started; it never listens');
setInterval(() => undefined, 60_000);
`,
  /** An API and an admin server, each on a port of its own. */
  listensTwice: `import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
createServer((_req, res) => res.end('api')).listen(port);
createServer((_req, res) => res.end('admin')).listen(port + 1);
`,
  /**
   * CommonJS (a .cts in this ES module package) that listens as it loads, exporting nothing, as a
   * CommonJS Express server.js (`require('express')`, `app.listen(PORT)`) does: `module.exports` is `{}`.
   */
  commonJsListensAtOnce: `import { createServer } from 'node:http';

${versionLine('cjs-at-once')}

createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ version: VERSION }));
}).listen(Number(process.env.PORT ?? 3000));
`,
  /**
   * CommonJS (a .cts in this ES module package) whose listen comes after an await, as the
   * bootstrap() of `nest new`'s CommonJS main.ts does: the module has ended, exporting nothing
   * (`module.exports` is `{}`), before it listens.
   */
  commonJsListensLate: `import { createServer } from 'node:http';

${versionLine('cjs-late')}

async function bootstrap() {
  await new Promise((resolve) => setTimeout(resolve, 100)); // connects to its database, say
  createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version: VERSION }));
  }).listen(Number(process.env.PORT ?? 3000));
}
void bootstrap();
`,
};
