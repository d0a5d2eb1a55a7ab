/** Module resolution hook (runs in the loader thread); see trust-proxy.ts. */
const wrapper = new URL('./fastify-with-trust.js', import.meta.url).href;

interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve) {
  const parent = context.parentURL ?? '';
  if (specifier === 'fastify' && parent.startsWith('file:') && !parent.includes('/node_modules/') && parent !== wrapper) {
    return { url: wrapper, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
