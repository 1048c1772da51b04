import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { box, boxEmail, boxRun } from "@vps-claude/db";
import { type FakeAnthropic, generateWebhookSecret, startFakeAnthropic } from "@vps-claude/testing";
import { type ResendProcess, startResendProcess } from "@vps-claude/testing/platform";
import { and, count, eq, inArray, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Inbound email under load, on the real stack: signed Resend `email.received` webhooks at a fixed
 * rate (an open loop: each is sent when its slot comes, whatever the server is doing), spread over
 * 20 deployed boxes (sprites-local, box-agent, the real Claude CLI against a fake Messages API).
 * Every email must be stored once, delivered once to its box's inbox (or be visibly `failed`), and
 * every delivered email must have exactly one run recorded.
 *
 * The figure is 100 emails/s for 30 s (3,000 emails): `LOAD_INBOUND_EMAIL_SECONDS=30`.
 * By default the test sends for 5 s (500 emails), which takes about a minute on two cores; the full
 * figure takes 4 minutes or more there, mostly draining deliveries after the load, too long for
 * `npm test`. `LOAD_INBOUND_EMAIL_RATE` changes the rate.
 *
 * Each email starts a Claude run. A model turn here outlasts the load, as a real one would with 5
 * emails/s arriving per box: with `maxConcurrentRuns` 1, each box runs one Claude process and queues
 * the rest, which is expected; what is checked is that every run was recorded, not that it finished
 * (box-agent's durable queue drains after the load). The sandboxes yield the CPU to the platform by
 * sprites-local's own default (`SPRITES_LOCAL_TOTAL_CPU_SHARES`), as on a one-machine install.
 */

const BOXES = 20;
function positiveFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number, not '${raw}'`);
  }
  return value;
}

const RATE_PER_SECOND = positiveFromEnv("LOAD_INBOUND_EMAIL_RATE", 100);
const SECONDS = positiveFromEnv("LOAD_INBOUND_EMAIL_SECONDS", 5);
const EMAILS = Math.round(RATE_PER_SECOND * SECONDS);
/**
 * As Resend (Svix) delivers: an attempt not answered 2xx within 15 s is retried after 5 s, then
 * after 5 minutes (its schedule goes on with 30 min, 2 h, …; two retries are where a test stops).
 */
const WEBHOOK_TIMEOUT_MS = 15_000;
const WEBHOOK_RETRY_SCHEDULE_MS = [5_000, 5 * 60_000];

let fake: FakeAnthropic;
let resend: ResendProcess;
let server: TestServer;
let client: TestClient;
const secret = generateWebhookSecret();
let endTurns: (reply: string) => void = () => {};
const turnsEnd = new Promise<string>((resolve) => {
  endTurns = resolve;
});
const boxes: { id: string; address: string; spriteName: string }[] = [];

async function inboundRows() {
  return server.deps.db
    .select({
      id: boxEmail.id,
      boxId: boxEmail.boxId,
      status: boxEmail.status,
      providerMessageId: boxEmail.providerMessageId,
      errorMessage: boxEmail.errorMessage,
    })
    .from(boxEmail)
    .where(
      and(
        eq(boxEmail.direction, "inbound"),
        inArray(
          boxEmail.boxId,
          boxes.map((b) => b.id),
        ),
      ),
    );
}

/** How many copies of each email id the box's mailbox holds (`~/.inbox` unread, `~/.inbox/.archive` read), read on the host. */
async function mailboxCopies(spriteName: string): Promise<Map<string, number>> {
  const home = server.spriteHomeOnHost(spriteName);
  const copies = new Map<string, number>();
  for (const dir of [join(home, ".inbox"), join(home, ".inbox", ".archive")]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const match = /^(email_[0-9a-z]+)\.json$/.exec(name);
      if (match?.[1]) {
        copies.set(match[1], (copies.get(match[1]) ?? 0) + 1);
      }
    }
  }
  return copies;
}

beforeAll(async () => {
  // A model turn outlasts the load, as a real one would at 5 emails/s per box: each box starts one
  // Claude process and the rest of its runs wait in its queue. Pings keep the streams alive meanwhile.
  fake = await startFakeAnthropic({ respond: () => turnsEnd, pingWhilePendingMs: 10_000 });
  // Resend (its receiving API and its webhook sender) in a process of its own, as it runs elsewhere:
  // signing and sending 100 webhooks a second in the platform's process would load its event loop
  // as real traffic never does (tried: the sender alone took a third of the process's CPU).
  resend = await startResendProcess();
  server = await startTestServer({
    label: "loademail",
    workers: true,
    // Its own process, as `npm start` runs it: the sandboxes' proxy does not share the server's event loop.
    sprites: "process",
    // No box falls asleep mid-test: sleep and wake are other tests' subject.
    spriteIdleMs: 30 * 60_000,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: "sk-ant-test",
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.url,
      RESEND_WEBHOOK_SECRET: secret,
      EMAIL_DELIVERY_RETRY_BASE_MS: "1000",
      DEPLOY_HEALTH_TIMEOUT_MS: "120000",
    },
    // One Claude process per box at a time: 20 at most on this machine; the rest wait in each box's queue.
    boxAgentEnv: {
      BOX_AGENT_MAX_CONCURRENT_RUNS: "1",
      CLAUDE_CODE_MAX_RETRIES: "0",
      API_TIMEOUT_MS: "600000",
    },
  });
  ({ client } = await signedInClient(server));
  const created = await Promise.all(
    Array.from({ length: BOXES }, async (_, index) => {
      const res = await client.post("/rpc/box", { name: `Load ${index + 1}` });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return { id: String(res.body.id), address: String(res.body.email) };
    }),
  );
  const ids = created.map((b) => b.id);
  const deployed = await waitFor(
    () => server.deps.db.select().from(box).where(inArray(box.id, ids)),
    (rows) => rows.every((row) => row.status === "running" || row.status === "error"),
    { timeout: 480_000, interval: 1_000, what: `${BOXES} boxes to deploy` },
  );
  const broken = deployed.filter((row) => row.status !== "running");
  expect(broken.map((row) => `${row.name}: ${row.errorMessage}`)).toEqual([]);
  for (const entry of created) {
    const row = deployed.find((candidate) => candidate.id === entry.id);
    boxes.push({ ...entry, spriteName: String(row?.spriteName) });
  }
}, 600_000);

afterAll(async () => {
  endTurns("Read it; nothing to do.");
  // Runs still queued in the boxes end with their sandboxes here; nothing waits for them.
  await server?.close();
  await resend?.close();
  await fake?.close();
});

describe(`${RATE_PER_SECOND} inbound emails/s for ${SECONDS} s over ${BOXES} boxes`, () => {
  it(
    "stores every email once, delivers each once to its box's inbox or marks it failed, and records exactly one run per delivered email",
    async () => {
      const resendIds = await resend.addInboundEmails(
        Array.from({ length: EMAILS }, (_, index) => ({
          from: `Sender ${index} <sender-${index}@example.com>`,
          to: [String(boxes[index % BOXES]?.address)],
          subject: `Load ${index}`,
          text: `Message ${index} of ${EMAILS}: a short note such as a person would send.`,
        })),
      );

      const { outcomes, maxSendLagMs } = await resend.sendWebhooks({
        url: `${server.url}/webhooks/inbound-email`,
        secret,
        emailIds: resendIds,
        ratePerSecond: RATE_PER_SECOND,
        retryScheduleMs: WEBHOOK_RETRY_SCHEDULE_MS,
        timeoutMs: WEBHOOK_TIMEOUT_MS,
      });
      const refused = outcomes.filter((outcome) => outcome.status < 200 || outcome.status >= 300);
      const byAttempts: Record<number, number> = {};
      for (const outcome of outcomes) {
        byAttempts[outcome.attempts] = (byAttempts[outcome.attempts] ?? 0) + 1;
      }
      const answered = outcomes.map((outcome) => outcome.answerMs).sort((a, b) => a - b);
      const answerPercentile = (p: number) =>
        answered[Math.min(answered.length - 1, Math.floor(p * answered.length))];
      console.info(
        `[load] ${EMAILS} webhooks at ${RATE_PER_SECOND}/s: sender at most ${maxSendLagMs} ms behind its slots; webhooks by attempts taken: ${JSON.stringify(byAttempts)}; last attempt answered in p50 ${answerPercentile(0.5)} ms, p95 ${answerPercentile(0.95)} ms, max ${answered.at(-1)} ms`,
      );
      expect(refused.slice(0, 5), `${refused.length} webhooks never answered 2xx`).toEqual([]);

      // Stored: one row per Resend email, none twice.
      const stored = await inboundRows();
      expect(stored, "one row per email").toHaveLength(EMAILS);
      expect(new Set(stored.map((row) => row.providerMessageId))).toEqual(new Set(resendIds));

      // Delivered (the run started; it may have ended already) or visibly failed: nothing left in between.
      const settled = ["delivered", "processed", "failed"];
      const ended = await waitFor(inboundRows, (rows) => rows.every((row) => settled.includes(row.status)), {
        timeout: 600_000,
        interval: 2_000,
        what: "every email to be delivered or failed",
      });
      const failed = ended.filter((row) => row.status === "failed");
      if (failed.length > 0) {
        console.info(`[load] ${failed.length} emails failed, e.g. ${failed[0]?.errorMessage}`);
      }
      for (const row of failed) {
        expect(row.errorMessage, `failed email ${row.id} says why`).toMatch(/\S/);
      }

      // In its own box's inbox exactly once (a failed one: at most once), and in no other box.
      const holders = new Map<string, string[]>();
      for (const target of boxes) {
        for (const [emailId, n] of await mailboxCopies(target.spriteName)) {
          holders.set(emailId, [...(holders.get(emailId) ?? []), ...Array<string>(n).fill(target.id)]);
        }
      }
      const wrongCopies = ended.filter((row) => {
        const held = holders.get(row.id) ?? [];
        return row.status === "failed"
          ? held.some((id) => id !== row.boxId) || held.length > 1
          : held.length !== 1 || held[0] !== row.boxId;
      });
      expect(
        wrongCopies.slice(0, 5).map((row) => ({ ...row, heldBy: holders.get(row.id) ?? [] })),
        `${wrongCopies.length} emails not in their box's inbox exactly once`,
      ).toEqual([]);
      const knownIds = new Set(ended.map((row) => row.id));
      expect(
        [...holders.keys()].filter((id) => !knownIds.has(id)),
        "no mail in a box that it was not sent",
      ).toEqual([]);

      // Exactly one run per delivered email, on the email's own box.
      const runs = await server.deps.db
        .select({ emailId: boxRun.emailId, boxId: boxRun.boxId, runs: count() })
        .from(boxRun)
        .where(
          and(
            isNotNull(boxRun.emailId),
            inArray(
              boxRun.boxId,
              boxes.map((b) => b.id),
            ),
          ),
        )
        .groupBy(boxRun.emailId, boxRun.boxId);
      const runsOf = new Map(runs.map((row) => [String(row.emailId), row]));
      const delivered = ended.filter((row) => row.status !== "failed");
      const withoutOneRun = delivered.filter((row) => {
        const found = runsOf.get(row.id);
        return found?.runs !== 1 || found.boxId !== row.boxId;
      });
      expect(
        withoutOneRun.slice(0, 5).map((row) => ({ ...row, run: runsOf.get(row.id) })),
        `${withoutOneRun.length} delivered emails without exactly one run`,
      ).toEqual([]);
      expect(
        runs.filter((row) => !knownIds.has(String(row.emailId))),
        "no run for an email never sent",
      ).toEqual([]);

      const states = await server.deps.db
        .select({ status: boxRun.status, n: count() })
        .from(boxRun)
        .where(
          inArray(
            boxRun.boxId,
            boxes.map((b) => b.id),
          ),
        )
        .groupBy(boxRun.status);
      console.info(
        `[load] runs when the test ends (queued ones drain in their boxes): ${JSON.stringify(states)}`,
      );
    },
    20 * 60_000,
  );
});
