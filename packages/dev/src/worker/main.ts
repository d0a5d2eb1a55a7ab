/**
 * fw dev's worker script: the same AppWorker as production, plus what only development needs.
 * - A warm spare (FW_SPARE=1) is started before any save: it loads and exercises the app's
 *   dependencies, then learns its build from a `load` message and boots it.
 */
import { AppWorker } from '@fwjs/core/worker';
import { parseWarmModules, warmUp } from './warm-up.js';

const isSpare = process.env.FW_SPARE === '1';
let loadRequested = false;

const worker = new AppWorker({
  onMessage(message) {
    if (message.type !== 'load' || !isSpare || loadRequested) return;
    loadRequested = true;
    worker.setGeneration(message.generation);
    Object.assign(process.env, message.env, {
      FW_WORKER_ID: String(message.workerId),
      FW_GENERATION: String(message.generation),
      FW_BUILD_ID: message.build.id,
    });
    void warmedUp.then(() => worker.boot(message.build.entry, message.build.source)).catch((error: unknown) => worker.fail(error));
  },
});
worker.attach();

const warmedUp = isSpare ? warmUp(parseWarmModules(process.env.FW_WARM_MODULES), process.cwd(), () => loadRequested) : Promise.resolve();
if (!isSpare) worker.boot(process.env.FW_BUILD_ENTRY).catch((error: unknown) => worker.fail(error));
