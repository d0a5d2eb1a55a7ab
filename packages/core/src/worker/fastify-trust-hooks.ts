/** Module resolution hooks; see trust-proxy.ts. */
const wrapper = new URL('./fastify-with-trust.js', import.meta.url).href;

interface ResolveContext {
  parentURL?: string;
  conditions?: readonly string[];
}
interface Resolved {
  url: string;
  shortCircuit?: boolean;
}

/** The wrapper's URL for the app's own `import 'fastify'`, else undefined. */
export function fastifyWrapperFor(specifier: string, context: ResolveContext): string | undefined {
  const parent = context.parentURL ?? '';
  return specifier === 'fastify' && parent.startsWith('file:') && !parent.includes('/node_modules/') && parent !== wrapper ? wrapper : undefined;
}

/** For `module.register` (runs in the loader thread, sees imports only). */
export async function resolve(specifier: string, context: ResolveContext, nextResolve: (specifier: string, context: ResolveContext) => Promise<Resolved>) {
  const url = fastifyWrapperFor(specifier, context);
  return url ? { url, shortCircuit: true } : nextResolve(specifier, context);
}

/**
 * For `module.registerHooks` (runs in the thread itself, sees `require` too): imports only, as
 * with `register`; a CommonJS `require('fastify')` keeps the real module, which the ES module
 * wrapper could not stand in for.
 */
export function resolveSync(specifier: string, context: ResolveContext, nextResolve: (specifier: string, context: ResolveContext) => Resolved): Resolved {
  const url = context.conditions?.includes('import') ? fastifyWrapperFor(specifier, context) : undefined;
  return url ? { url, shortCircuit: true } : nextResolve(specifier, context);
}
