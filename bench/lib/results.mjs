// Where results go, and what every result file says about the run.
//
// A full run writes bench/results/<name>.json; a --quick run writes bench/results/<name>.quick.tmp
// (JSON as well; *.tmp is git-ignored), so a quick check never replaces the reference results that
// docs/performance.md quotes. This is the convention bench/dev-loop.mjs already follows.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { resultsDir } from './procs.mjs';
import { round } from './stats.mjs';

export function resultFile(name, quick) {
  return path.join(resultsDir, quick ? `${name}.quick.tmp` : `${name}.json`);
}

export async function writeResult(name, quick, data) {
  const file = resultFile(name, quick);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** Starts timing a bench run; `header()` is the head every result file begins with. */
export function runClock(name, { quick, config }) {
  const startedAt = new Date();
  const t0 = performance.now();
  return {
    header: () => ({ bench: name, date: startedAt.toISOString(), durationS: round((performance.now() - t0) / 1000), quick, machine: machine(), config }),
  };
}

export function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
}

/** `--quick` and `--flag value` options shared by the benches. */
export function parseCommonArgs(argv, extra = {}) {
  const options = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg in extra) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      options[extra[arg]] = value;
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  return options;
}
