import { availableParallelism, loadavg } from "node:os";
import { startPlatform } from "@vps-claude/testing/platform";
import { signUp } from "../api/servers";
import { CleanupStack } from "../lib/cleanup";
import { log, requireEnv } from "../lib/env";
import { measureGatewayLedger } from "./gateway-ledger";
import { measureMonthReport } from "./month-report";

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_LEDGER_ADDED_P50_MS = 1;
const AIM_MONTH_REPORT_P50_MS = 50;

const round = (value: number) => Math.round(value * 1000) / 1000;

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const only = process.env.BENCH_USAGE_ONLY;
  if (only !== undefined && only !== "gateway" && only !== "report") {
    throw new Error(`BENCH_USAGE_ONLY must be 'gateway' or 'report', not '${only}'`);
  }
  const cleanup = new CleanupStack();
  const interrupt = new AbortController();
  cleanup.onSignals(interrupt);
  try {
    const platform = await startPlatform({
      adminUrl,
      redisUrl,
      label: "bench_usage",
      logDestination: process.stderr,
      env: { NODE_ENV: "development", LOG_LEVEL: "warn" },
    });
    cleanup.push("stop the platform", platform.close);
    log(`platform on ${platform.url}`);

    const gateway =
      only === "report"
        ? undefined
        : await measureGatewayLedger({
            platform,
            ...(await signUp(platform)),
            cleanup,
            signal: interrupt.signal,
          });
    const report =
      only === "gateway"
        ? undefined
        : await measureMonthReport({ platform, ...(await signUp(platform)), signal: interrupt.signal });

    const result = {
      benchmark: "usage",
      node: process.version,
      cpus: availableParallelism(),
      loadAverage1m: round(loadavg()[0] ?? 0),
      gatewayLedger: gateway,
      monthReport: report,
      aims: {
        ledgerAddedP50UnderMs: AIM_LEDGER_ADDED_P50_MS,
        ledgerAddedP50Met: gateway
          ? gateway.latencyAtConcurrency1.addedP50Ms < AIM_LEDGER_ADDED_P50_MS
          : null,
        monthReportP50UnderMs: AIM_MONTH_REPORT_P50_MS,
        monthReportP50Met: report
          ? Object.values(report.http).every((figures) => figures.p50Ms < AIM_MONTH_REPORT_P50_MS)
          : null,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[bench] usage failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
