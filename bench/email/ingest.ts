import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { type LoopbackServer, listenOnLoopback } from "@vps-claude/testing/platform";
import { Hono } from "hono";
import { Webhook, WebhookVerificationError } from "svix";
import { log } from "../lib/env";
import { type OpenLoopReport, type PreparedRequest, runOpenLoop } from "../lib/open-loop";
import { type LatencySummary, summarizeLatencies } from "../lib/stats";

export const WEBHOOK_PATH = "/webhooks/inbound-email";

/**
 * The floor: a Hono route on Node's HTTP server that does only what no webhook receiver can skip,
 * reading the raw body and checking its Svix signature with the same `svix` package, then 200.
 */
export function startBareWebhookServer(secret: string): Promise<LoopbackServer> {
  const app = new Hono();
  app.post(WEBHOOK_PATH, async (c) => {
    const raw = await c.req.text();
    try {
      new Webhook(secret).verify(raw, {
        "svix-id": c.req.header("svix-id") ?? "",
        "svix-timestamp": c.req.header("svix-timestamp") ?? "",
        "svix-signature": c.req.header("svix-signature") ?? "",
      });
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        return c.json({ code: "UNAUTHORIZED", message: err.message }, 401);
      }
      return c.json({ code: "BAD_REQUEST", message: "webhook body is not valid JSON" }, 400);
    }
    return c.json({ received: true }, 200);
  });
  return listenOnLoopback(app.fetch);
}

export interface IngestResult extends LatencySummary {
  ratePerSecond: number;
  sent: number;
  errors: number;
  firstError?: string;
  achievedRps: number;
  /** p99 counted from each request's slot in the schedule rather than from its actual send. */
  p99FromScheduleMs: number;
  /** The sender's worst lateness; when it is more than a few ms, the offered rate was not held. */
  maxSendLagMs: number;
  /**
   * CPU time of this process (the server under test) per answered request during the run. Unlike
   * latency it barely moves when other work shares the machine, so it compares runs across machines.
   */
  cpuMsPerRequest: number;
  eventLoopDelayP99Ms: number;
}

function describe(
  report: OpenLoopReport,
  ratePerSecond: number,
  cpu: NodeJS.CpuUsage,
  loopDelay: IntervalHistogram,
): IngestResult {
  const { run } = report;
  return {
    ratePerSecond,
    sent: run.sent,
    ...summarizeLatencies(run.latenciesMs),
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
    achievedRps: report.achievedRps,
    p99FromScheduleMs: summarizeLatencies(run.scheduledLatenciesMs).p99Ms,
    maxSendLagMs: Math.round(run.maxSendLagMs * 10) / 10,
    cpuMsPerRequest: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, run.completed)) * 100) / 100,
    eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
  };
}

/** A short warm-up at the same rate (JIT, connection pools), then the measured run. */
export async function measureIngest(input: {
  name: string;
  url: string;
  warmup: PreparedRequest[];
  measured: PreparedRequest[];
  ratePerSecond: number;
  seconds: number;
  signal: AbortSignal;
}): Promise<IngestResult> {
  const { name, url, ratePerSecond, signal } = input;
  const warmupSeconds = input.warmup.length / ratePerSecond;
  log(`${name}: warm-up, ${input.warmup.length} webhooks at ${ratePerSecond}/s`);
  const warm = await runOpenLoop({
    url,
    requests: input.warmup,
    ratePerSecond,
    timeLimitMs: warmupSeconds * 1000,
    drainMs: 10_000,
    signal,
  });
  if (warm.run.errors > 0) {
    throw new Error(
      `${name}: ${warm.run.errors} webhooks failed during warm-up, first: ${warm.run.firstError}`,
    );
  }
  log(`${name}: ${input.seconds} s at ${ratePerSecond}/s`);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const measured = await runOpenLoop({
    url,
    requests: input.measured,
    ratePerSecond,
    timeLimitMs: input.seconds * 1000,
    // A server that fell behind finishes its backlog here rather than during the next target's run.
    drainMs: 30_000,
    signal,
  });
  const cpu = process.cpuUsage(cpuBefore);
  loopDelay.disable();
  const result = describe(measured, ratePerSecond, cpu, loopDelay);
  log(
    `${name}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.achievedRps} req/s, ${result.errors} errors, ${result.cpuMsPerRequest} ms CPU/request`,
  );
  return result;
}
