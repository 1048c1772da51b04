#!/usr/bin/env node
// `npm test`: runs the whole Vitest suite (extra arguments pass through, e.g. `npm test -- packages/db`)
// and ends with one line, `N passed, N failed[, N skipped]`, that CI reads. The exit code is non-zero
// when a test failed, a test file could not run, or Vitest itself failed.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const reportFile = path.join(root, ".test-results", "vitest.json");
const vitestManifest = createRequire(import.meta.url).resolve("vitest/package.json");
const vitest = path.join(path.dirname(vitestManifest), "vitest.mjs");

await mkdir(path.dirname(reportFile), { recursive: true });
await rm(reportFile, { force: true });

const args = [
  vitest,
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportFile}`,
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
const exitCode = await new Promise((resolve) => {
  child.on("error", () => resolve(1));
  child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(await readFile(reportFile, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that fails to load (syntax error, failing beforeAll) has no failed test of its own: count it.
  for (const file of report.testResults ?? []) {
    const failedInFile = (file.assertionResults ?? []).filter((test) => test.status === "failed").length;
    if (file.status === "failed" && failedInFile === 0) {
      failed += 1;
    }
  }
} catch {
  console.error(
    `No test report at ${path.relative(root, reportFile)}: Vitest did not finish (exit code ${exitCode}).`,
  );
  failed = Math.max(failed, 1);
}

const failedRun = exitCode !== 0 || failed > 0;
if (failedRun && failed === 0) {
  // Vitest failed outside any test (an unhandled error, a failing global setup): never report a clean run.
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failedRun ? 1 : 0);
