import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * `npm run bench`: every benchmark in turn, each in its own process (a fresh event loop, its own
 * database and queue prefix), so stdout carries one JSON object per benchmark, in this order.
 * A benchmark that fails is reported on stderr and the others still run.
 */
const BENCHMARKS = ["api", "deploy", "email", "gateway", "runs", "usage", "web"];

function run(name: string): Promise<number> {
  const entry = fileURLToPath(new URL(`./${name}/main.ts`, import.meta.url));
  // Our own execArgv carries tsx's loader, so the child runs TypeScript the same way.
  const child = spawn(process.execPath, [...process.execArgv, entry], { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const failed: string[] = [];
for (const name of BENCHMARKS) {
  process.stderr.write(`[bench] === ${name} ===\n`);
  const code = await run(name);
  if (code !== 0) {
    process.stderr.write(`[bench] ${name} failed with exit code ${code}\n`);
    failed.push(name);
  }
}
if (failed.length > 0) {
  process.stderr.write(`[bench] failed: ${failed.join(", ")}\n`);
  process.exitCode = 1;
}
