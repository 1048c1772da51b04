import { availableParallelism, loadavg } from "node:os";
import { box } from "@vps-claude/db";
import { generateWebhookSecret, startFakeAnthropic } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { CleanupStack } from "../lib/cleanup";
import { waitUntil } from "../lib/distribution";
import { log, requireEnv } from "../lib/env";
import { startFakeResendProcess } from "../lib/fake-resend-process";
import { startPlatform } from "../lib/platform";
import { UserClient } from "../lib/user-client";
import { measureInboxLatency } from "./inbox-latency";
import { measureIngest, startBareWebhookServer, WEBHOOK_PATH } from "./ingest";

const INGEST_RATE_PER_SECOND = 200;
const INGEST_SECONDS = 10;
const WARMUP_SECONDS = 2;
const INBOX_EMAILS = 30;
/** One email a second: each one also starts a Claude run in the box, as real mail would. */
const INBOX_INTERVAL_MS = 1_000;
const INBOX_TIMEOUT_MS = 60_000;
const DEPLOY_TIMEOUT_MS = 120_000;

/** What we aim for; reported, never asserted (timings depend on the machine). */
const AIM_INGEST_P99_MS = 50;
const AIM_INBOX_P95_MS = 1_000;

async function main() {
  const adminUrl = requireEnv("DATABASE_URL");
  const redisUrl = requireEnv("REDIS_URL");
  const cleanup = new CleanupStack();
  const interrupt = new AbortController();
  cleanup.onSignals(interrupt);
  try {
    const anthropic = await startFakeAnthropic({ respond: () => "Read it; nothing to do." });
    cleanup.push("stop fake Anthropic", anthropic.close);
    const resend = await startFakeResendProcess();
    cleanup.push("stop fake Resend", resend.close);
    const secret = generateWebhookSecret();
    const platform = await startPlatform({
      adminUrl,
      redisUrl,
      label: "email",
      cleanup,
      env: {
        ANTHROPIC_BASE_URL: anthropic.url,
        ANTHROPIC_API_KEY: "sk-ant-bench",
        RESEND_API_KEY: resend.apiKey,
        RESEND_BASE_URL: resend.url,
        RESEND_WEBHOOK_SECRET: secret,
        // Phase (a) runs without workers; should a delivery fail in (b), its retry stays out of the way.
        EMAIL_DELIVERY_RETRY_BASE_MS: "600000",
      },
      boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0" },
    });
    const client = new UserClient(platform.url, platform.publicUrl);
    await client.signUp();
    // No workers yet: the box stays pending, and ingest is measured without deliveries competing.
    const mailbox = await client.expect<{ id: string; email: string }>(201, "POST", "/rpc/box", {
      name: "Mailbox",
    });
    log(`box ${mailbox.id} <${mailbox.email}> created (pending until the workers start)`);

    const perRun = INGEST_RATE_PER_SECOND * INGEST_SECONDS;
    const perWarmup = INGEST_RATE_PER_SECOND * WARMUP_SECONDS;
    const prepare = (count: number, subjectPrefix: string) =>
      resend.prepareWebhooks({ count, to: mailbox.email, secret, subjectPrefix });
    const warmup = await prepare(perWarmup, "Warm-up");
    const measured = await prepare(perRun, "Ingest");
    log(`${perWarmup + perRun} distinct received emails registered with the fake Resend and signed`);

    const server = await measureIngest({
      name: "webhook route",
      url: `${platform.url}${WEBHOOK_PATH}`,
      warmup,
      measured,
      ratePerSecond: INGEST_RATE_PER_SECOND,
      seconds: INGEST_SECONDS,
      signal: interrupt.signal,
    });
    const bare = await startBareWebhookServer(secret);
    cleanup.push("stop the bare route", bare.close);
    const bareRoute = await measureIngest({
      name: "bare route",
      url: `${bare.url}${WEBHOOK_PATH}`,
      warmup,
      measured,
      ratePerSecond: INGEST_RATE_PER_SECOND,
      seconds: INGEST_SECONDS,
      signal: interrupt.signal,
    });
    // The deliveries queued by the ingest run are not part of what comes next.
    await platform.deps.queues.get("deliverEmail").drain(true);

    log("starting the workers and waiting for the box to deploy");
    await platform.startWorkers();
    const running = await waitUntil(
      "the box to deploy",
      async () => {
        const current = await client.expect<{ status: string; errorMessage: string | null }>(
          200,
          "GET",
          `/rpc/box/${mailbox.id}`,
        );
        if (current.status === "error") {
          throw new Error(`the box failed to deploy: ${current.errorMessage}`);
        }
        return current.status === "running" ? current : undefined;
      },
      { timeoutMs: DEPLOY_TIMEOUT_MS, intervalMs: 200 },
    );
    const [row] = await platform.deps.db
      .select({ spriteName: box.spriteName })
      .from(box)
      .where(eq(box.id, mailbox.id));
    const spriteName = row?.spriteName;
    if (!spriteName) {
      throw new Error(`box ${mailbox.id} is ${running.status} but has no sprite`);
    }
    log(`box running in sprite ${spriteName}; ${INBOX_EMAILS} emails, one every ${INBOX_INTERVAL_MS} ms`);
    const inbox = await measureInboxLatency({
      platform,
      boxId: mailbox.id,
      spriteName,
      webhooks: await prepare(INBOX_EMAILS, "Inbox"),
      intervalMs: INBOX_INTERVAL_MS,
      timeoutMs: INBOX_TIMEOUT_MS,
    });
    log(`inbox: p50 ${inbox.webhookToInbox.p50Ms} ms, p95 ${inbox.webhookToInbox.p95Ms} ms`);

    const result = {
      benchmark: "email",
      node: process.version,
      cpus: availableParallelism(),
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      ingest: {
        webhookRoute: server,
        bareRoute,
        p99Ratio: Math.round((server.p99Ms / bareRoute.p99Ms) * 100) / 100,
        cpuRatio: Math.round((server.cpuMsPerRequest / bareRoute.cpuMsPerRequest) * 10) / 10,
      },
      inbox,
      aims: {
        ingestP99Under50msAt200PerSecond: server.errors === 0 && server.p99Ms < AIM_INGEST_P99_MS,
        inboxP95Under1s: inbox.webhookToInbox.p95Ms < AIM_INBOX_P95_MS,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup.run();
  }
}

await main();
