import Module from 'node:module';

type Factory = ((options?: Record<string, unknown>) => unknown) & Record<string, unknown>;
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * Fastify, once its close() has begun, answers every new request with a 503
 * (`return503OnClosing`, on by default). Under fw the close begins as the worker starts draining
 * (so an app's `preClose` hooks end its WebSockets and streams at once), while requests may still
 * arrive on connections kept alive from before; fw's drain answers them and closes the connection
 * after (design.md's drain rule), so under fw the option defaults to false. An app that sets it
 * keeps its own value. Every `fastify` the worker loads, by `import` or `require`, gets the default:
 * Node loads a CommonJS package through `Module._load` either way.
 */
export function defaultFastifyOptions(): void {
  const modules = Module as unknown as { _load: Load };
  const load = modules._load;
  const wrappers = new WeakMap<Factory, Factory>();
  modules._load = function loadWithFastifyDefaults(this: unknown, ...args: Parameters<Load>) {
    const loaded = load.apply(this, args);
    if (!isFastifyFactory(loaded)) return loaded;
    let wrapper = wrappers.get(loaded);
    if (!wrapper) {
      wrapper = withDefaults(loaded);
      wrappers.set(loaded, wrapper);
      wrappers.set(wrapper, wrapper);
    }
    return wrapper;
  };
}

/** Fastify's main export: the factory, which is also its own `fastify` and `default` export. */
function isFastifyFactory(value: unknown): value is Factory {
  return typeof value === 'function' && (value as Factory).fastify === value && 'errorCodes' in value;
}

function withDefaults(real: Factory): Factory {
  const fastify = Object.assign((options: Record<string, unknown> = {}) => real({ return503OnClosing: false, ...options }), real) as Factory;
  fastify.fastify = fastify;
  fastify.default = fastify;
  return fastify;
}
