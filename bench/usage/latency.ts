/** p50/p95/p99 of a set of latencies, in ms (nearest rank), as this benchmark reports them. */
export interface Percentiles {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

function rank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1;
  return sorted[index] ?? Number.NaN;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50Ms: round(rank(sorted, 50)),
    p95Ms: round(rank(sorted, 95)),
    p99Ms: round(rank(sorted, 99)),
  };
}

/** Latencies of several runs as one set. */
export function concat(runs: Float64Array[]): Float64Array {
  const all = new Float64Array(runs.reduce((sum, run) => sum + run.length, 0));
  let offset = 0;
  for (const run of runs) {
    all.set(run, offset);
    offset += run.length;
  }
  return all;
}

/** Times `work` `times` times, one after another, and returns each duration in ms. */
export async function timeEach(
  times: number,
  work: (index: number) => Promise<unknown>,
): Promise<Float64Array> {
  const durations = new Float64Array(times);
  for (let index = 0; index < times; index++) {
    const begin = process.hrtime.bigint();
    await work(index);
    durations[index] = Number(process.hrtime.bigint() - begin) / 1e6;
  }
  return durations;
}

export const roundMs = round;
