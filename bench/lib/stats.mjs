// Small numeric helpers shared by the benches.

/** Linear interpolation between closest ranks; null for no values. */
export function quantile(values, q) {
  const finite = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

export function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

export function round(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function ratio(a, b, digits = 3) {
  if (a === null || b === null || a === undefined || b === undefined || !b) return null;
  return round(a / b, digits);
}

/** The busiest worker's share of `counts` (an object or array of counts): 0.5 is an even split of two. */
export function busiestShare(counts) {
  const values = Array.isArray(counts) ? counts : Object.values(counts);
  const total = sum(values);
  return total ? round(Math.max(...values) / total, 3) : null;
}

/** "62/38" from counts. */
export function splitText(counts) {
  const values = (Array.isArray(counts) ? counts : Object.values(counts)).slice().sort((a, b) => b - a);
  const total = sum(values);
  return total ? values.map((v) => Math.round((v / total) * 100)).join('/') : 'n/a';
}

export const mb = (bytes) => (bytes === null || bytes === undefined ? null : round(bytes / 1024 / 1024, 1));

export function addCount(target, key, n = 1) {
  target[key] = (target[key] ?? 0) + n;
}

export function mergeCounts(list) {
  const out = {};
  for (const counts of list) for (const [key, n] of Object.entries(counts ?? {})) addCount(out, key, n);
  return out;
}

/** Rotates `items` by `k`: the order of round k, so every contender goes first in turn. */
export function rotate(items, k) {
  return items.map((_, i) => items[(i + k) % items.length]);
}
