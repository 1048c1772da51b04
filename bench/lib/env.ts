/** Reads a required variable or stops the benchmark with a message that says how to run it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(
      `${name} is not set. The benchmarks need a Postgres role that may CREATE DATABASE and a Redis, e.g.\n` +
        "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 npm run -s bench\n",
    );
    process.exit(1);
  }
  return value;
}

/** Progress goes to stderr so stdout carries only the result object. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** A positive whole-number knob from the environment (`BENCH_…`), or its default when unset. */
export function positiveIntegerSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, not '${raw}'`);
  }
  return value;
}
