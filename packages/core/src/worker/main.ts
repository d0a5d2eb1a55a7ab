/**
 * The production worker script (`fw start`): boots the build the master names in FW_BUILD_ENTRY.
 * fw dev runs its own script on the same AppWorker (warm spares, forwarding while draining).
 */
import { AppWorker } from './app-worker.js';

const worker = new AppWorker();
worker.attach();
worker.boot(process.env.FW_BUILD_ENTRY).catch((error: unknown) => worker.fail(error));
