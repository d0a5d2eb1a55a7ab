/**
 * What an app's entry exports, decided once at boot from the export itself (never per request):
 * a Fastify instance, a factory returning one, a Fastify plugin `(fastify, opts)` (fastify-cli's
 * shape), or a `(req, res)` request listener (Express, Koa's `callback()`, Hono's
 * `getRequestListener`). A plugin and a listener both take two parameters; what cannot be told
 * apart is reported, and `entryKind` in fw.config.ts says which.
 */
export type EntryKind = 'instance' | 'factory' | 'plugin' | 'listener';

export const ENTRY_KINDS: readonly EntryKind[] = ['instance', 'factory', 'plugin', 'listener'];

export type Detected = { kind: EntryKind; why: string } | { kind: 'ambiguous'; why: string } | { kind: 'invalid'; why: string };

/** The parts of a module fw reads: its default export and the server options a plugin may export. */
export interface EntryExports {
  default: unknown;
  options: unknown;
}

const PLUGIN_MARKERS = [Symbol.for('skip-override'), Symbol.for('fastify.display-name'), Symbol.for('plugin-meta')];
const LISTENER_PARAM = /^_*(?:req|request|incoming|incomingMessage|message|msg)$/i;
const RESPONSE_PARAM = /^_*(?:res|response|reply|outgoing|serverResponse|resp|r)$/i;
const PLUGIN_PARAM = /^_*(?:fastify|instance|server|app|scope|f|fst|plugin|root)$/i;
const OPTIONS_PARAM = /^_*(?:opts|options|config|settings|overrides)$/i;

export function detectEntryKind(entry: EntryExports, isFastify: (value: unknown) => boolean): Detected {
  const value = entry.default;
  if (isFastify(value)) return { kind: 'instance', why: 'a Fastify instance' };
  if (typeof value !== 'function') return { kind: 'invalid', why: describe(value) };
  const fn = value as ((...args: unknown[]) => unknown) & Record<string | symbol, unknown>;
  if (typeof fn.handle === 'function' && typeof fn.use === 'function') return { kind: 'listener', why: 'an Express or Connect app' };
  if (PLUGIN_MARKERS.some((marker) => fn[marker] !== undefined)) return { kind: 'plugin', why: 'a plugin wrapped with fastify-plugin' };
  if (entry.options !== undefined) return { kind: 'plugin', why: 'a function exported beside `options` (fastify-cli\'s plugin shape)' };
  const params = parameterNames(fn);
  const first = params[0] ?? '';
  if (params.length === 0 && fn.length === 0) return { kind: 'factory', why: 'a function without parameters' };
  if (LISTENER_PARAM.test(first)) {
    // `(request)`, `(request, env, ctx)`: a fetch handler (Hono's app.fetch, a Worker) answers with
    // a Response; served as a (req, res) listener every request would hang.
    if (params.length < 2 || !RESPONSE_PARAM.test(params[1] ?? '')) {
      return { kind: 'invalid', why: `a function of (${params.join(', ')}), which looks like a fetch handler (request) => Response; serve it with @hono/node-server's getRequestListener(handler)` };
    }
    return { kind: 'listener', why: `a function of (${params.join(', ')})` };
  }
  if (PLUGIN_PARAM.test(first)) return { kind: 'plugin', why: `a function of (${params.join(', ')})` };
  if (params.length <= 1 && (OPTIONS_PARAM.test(first) || fn.length <= 1)) return { kind: 'factory', why: `a function of (${params.join(', ')})` };
  return { kind: 'ambiguous', why: `a function of ${params.length} parameters (${params.join(', ') || '…'})` };
}

/** Parameter names from a function's source, e.g. `async (fastify, opts) => …` gives fastify, opts. */
export function parameterNames(fn: (...args: never[]) => unknown): string[] {
  const source = Function.prototype.toString.call(fn).replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  const bare = /^(?:async\s+)?([\w$]+)\s*=>/.exec(source);
  if (bare) return [bare[1]!];
  const open = source.indexOf('(');
  if (open < 0) return [];
  let depth = 0;
  let close = open;
  for (; close < source.length; close++) {
    const char = source[close];
    if (char === '(' || char === '{' || char === '[') depth++;
    else if (char === ')' || char === '}' || char === ']') depth--;
    if (depth === 0) break;
  }
  const inside = source.slice(open + 1, close).trim();
  if (!inside) return [];
  // Destructured parameters have no name; keep their place.
  return splitTopLevel(inside).map((param) => /^(?:\.\.\.)?([\w$]+)/.exec(param.trim())?.[1] ?? '');
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '(' || char === '{' || char === '[') depth++;
    else if (char === ')' || char === '}' || char === ']') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((part) => part.trim() !== '');
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${Object.keys(value).slice(0, 5).join(', ') || 'no keys'})`;
  return `a ${typeof value}`;
}
