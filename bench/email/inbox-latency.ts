import { existsSync } from "node:fs";
import { join } from "node:path";
import { getBoxToken } from "@vps-claude/api";
import { boxEmail } from "@vps-claude/db";
import { inArray } from "drizzle-orm";
import { type Distribution, distribution, nowMs, sleep, waitUntil } from "../lib/distribution";
import type { PreparedWebhook } from "../lib/fake-resend-process";
import type { Platform } from "../lib/platform";
import { WEBHOOK_PATH } from "./ingest";

/** How the benchmark learns that an email is in the box's inbox. */
interface InboxProbe {
  method: string;
  intervalMs: number;
  has(emailId: string): Promise<boolean>;
}

/**
 * Looks at `~/.inbox` directly on this machine's filesystem (sprites-local keeps a sprite's home
 * at `<dataDir>/<name>/home`), which costs the box nothing; where that directory is not there (a
 * different layout), asks box-agent's `GET /email/list` through the sprite URL instead.
 */
async function inboxProbe(platform: Platform, boxId: string, spriteName: string): Promise<InboxProbe> {
  const home = platform.spriteHomeOnHost(spriteName);
  if (existsSync(join(home, ".box-agent", "config.json"))) {
    const inbox = join(home, ".inbox");
    return {
      method: "host filesystem (~/.inbox/<id>.json under the sprites-local data dir)",
      intervalMs: 2,
      // Claude may read (archive) an email the moment it lands; either place counts.
      has: async (emailId) =>
        existsSync(join(inbox, `${emailId}.json`)) || existsSync(join(inbox, ".archive", `${emailId}.json`)),
    };
  }
  const token = await getBoxToken({ db: platform.deps.db, keyring: platform.deps.keyring, boxId });
  if (!token) {
    throw new Error(`box ${boxId} has no token`);
  }
  return {
    method: "box-agent GET /email/list through the sprite URL",
    intervalMs: 20,
    async has(emailId) {
      for (const archived of [false, true]) {
        const response = await platform.deps.sprites.fetchSprite(
          spriteName,
          `/email/list?limit=500${archived ? "&archived=true" : ""}`,
          { headers: { "x-box-secret": token } },
        );
        const text = await response.text();
        if (response.ok && text.includes(emailId)) {
          return true;
        }
      }
      return false;
    },
  };
}

export interface InboxReport {
  emails: number;
  intervalMs: number;
  method: string;
  /** From the webhook POST until `~/.inbox/<id>.json` exists in the sandbox. */
  webhookToInbox: Distribution;
  /** Of which: the webhook's own answer (verify, fetch from Resend, store, enqueue). */
  webhookResponse: Distribution;
  /** Of which: stored → marked delivered (queue pickup, wake check, POST /email/receive), from the database. */
  storedToDelivered: Distribution;
}

/**
 * Posts signed webhooks for a running box one `intervalMs` apart (on a schedule, not waiting for the
 * previous email) and times each until its file is in the box's inbox.
 */
export async function measureInboxLatency(input: {
  platform: Platform;
  boxId: string;
  spriteName: string;
  webhooks: PreparedWebhook[];
  intervalMs: number;
  timeoutMs: number;
}): Promise<InboxReport> {
  const { platform, webhooks, intervalMs } = input;
  const probe = await inboxProbe(platform, input.boxId, input.spriteName);
  const startAt = nowMs() + 50;
  const samples = await Promise.all(
    webhooks.map(async (webhook, index) => {
      await sleep(Math.max(0, startAt + index * intervalMs - nowMs()));
      const postedAt = nowMs();
      const response = await fetch(`${platform.url}${WEBHOOK_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...webhook.headers },
        body: webhook.body,
      });
      const text = await response.text();
      const answeredAt = nowMs();
      if (response.status !== 200) {
        throw new Error(`webhook ${index} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
      }
      const emailId = (JSON.parse(text) as { emails?: { emailId: string }[] }).emails?.[0]?.emailId;
      if (!emailId) {
        throw new Error(`webhook ${index} was not routed to the box: ${text.slice(0, 300)}`);
      }
      const deadline = postedAt + input.timeoutMs;
      while (!(await probe.has(emailId))) {
        if (nowMs() > deadline) {
          throw new Error(`email ${emailId} not in the inbox ${input.timeoutMs} ms after its webhook`);
        }
        await sleep(probe.intervalMs);
      }
      return { emailId, totalMs: nowMs() - postedAt, webhookMs: answeredAt - postedAt };
    }),
  );
  // The file lands before box-agent answers; the row is marked delivered just after that answer.
  const rows = await waitUntil(
    "every email marked delivered",
    async () => {
      const found = await platform.deps.db
        .select({ id: boxEmail.id, createdAt: boxEmail.createdAt, deliveredAt: boxEmail.deliveredAt })
        .from(boxEmail)
        .where(
          inArray(
            boxEmail.id,
            samples.map((sample) => sample.emailId),
          ),
        );
      return found.every((row) => row.deliveredAt !== null) ? found : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return {
    emails: samples.length,
    intervalMs,
    method: probe.method,
    webhookToInbox: distribution(samples.map((sample) => sample.totalMs)),
    webhookResponse: distribution(samples.map((sample) => sample.webhookMs)),
    storedToDelivered: distribution(
      rows
        .filter((row) => row.deliveredAt !== null)
        .map((row) => (row.deliveredAt?.getTime() ?? 0) - row.createdAt.getTime()),
    ),
  };
}
