import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { box, boxEmail, boxRun, createDatabase, type DatabaseHandle } from "@vps-claude/db";
import { createLogger } from "@vps-claude/logger";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { generateEncryptionKey } from "@vps-claude/shared";
import { createSpritesClient, type SpritesClient } from "@vps-claude/sprites";
import {
  anthropicReply,
  type FakeAnthropic,
  type FakeResend,
  generateWebhookSecret,
  scriptedClaude,
  startFakeAnthropic,
  startFakeResend,
} from "@vps-claude/testing";
import {
  createScratchDatabase,
  deleteKeysWithPrefix,
  freePort,
  REPO_NODE_MODULES,
  type RunningSprites,
  requireEnv,
  type ScratchDatabase,
  startSpritesLocalProcess,
  TestClient,
  testBoxAgentBundle,
  waitFor,
  waitForHttp,
} from "@vps-claude/testing/platform";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The whole platform (API, workers, SMTP off, webhooks on) runs as one real process, the way
 * `npm start` runs apps/server, and is SIGKILLed while Claude is in the middle of answering an email.
 * sprites-local (and so the box and its box-agent, and the Claude CLI) keeps running; the platform
 * is started again on the same database, Redis prefix and data dir. The email must end answered
 * exactly once, or failed with its run interrupted and a retry that answers it — never `delivered`
 * forever with nothing done.
 */
const SERVER_MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** An email whose text carries one of these is answered with a reply; its first model turn is held. */
const SLOW_MARKERS = ["SLOW-OVERNIGHT", "SLOW-AGAIN"] as const;
type SlowMarker = (typeof SLOW_MARKERS)[number];

const script = scriptedClaude({
  rules: [
    {
      when: [
        /\b(email_[0-9a-z]{26})\b/,
        (turn) => SLOW_MARKERS.some((marker) => turn.prompt.includes(marker)),
      ],
      reply: ({ match }) =>
        anthropicReply.toolUse("mcp__box-agent__email_send", {
          to: "owner@example.com",
          body: "Here is the long answer you asked for.",
          replyToEmailId: match?.[1],
        }),
    },
  ],
  otherwise: () => "Noted.",
});

/**
 * The slow model turn of each marked email: its first model request waits until the test lets it go
 * (after the kill); later ones (the CLI's retry, a retried run) are answered at once.
 */
class HeldTurn {
  private releaseTurn: () => void = () => {};
  private arrive: () => void = () => {};
  readonly released = new Promise<void>((resolve) => {
    this.releaseTurn = resolve;
  });
  readonly arrived = new Promise<void>((resolve) => {
    this.arrive = resolve;
  });
  held = false;

  hold(): Promise<void> {
    this.held = true;
    this.arrive();
    return this.released;
  }

  release(): void {
    this.releaseTurn();
  }
}

const heldTurns = new Map<SlowMarker, HeldTurn>(SLOW_MARKERS.map((marker) => [marker, new HeldTurn()]));

function heldTurn(marker: SlowMarker): HeldTurn {
  const turn = heldTurns.get(marker);
  if (!turn) {
    throw new Error(`no held turn for ${marker}`);
  }
  return turn;
}

interface PlatformProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

let fake: FakeAnthropic;
let resend: FakeResend;
let database: ScratchDatabase;
let handle: DatabaseHandle;
let sprites: RunningSprites;
/** The test's own client of sprites-local, to kill box-agent inside the box as a crash would. */
let spritesClient: SpritesClient;
let workDir: string;
let serverUrl: string;
let platformEnv: Record<string, string>;
let platform: PlatformProcess | undefined;
let client: TestClient;
let boxId: string;
let address: string;
const secret = generateWebhookSecret();
const queuePrefix = `pkill-${randomBytes(4).toString("hex")}`;
const publicUrl = "http://localhost:33001";

function startPlatformProcess(): PlatformProcess {
  // Its own process group, so the kill takes anything it started with it.
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_MAIN], {
    env: platformEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 300) {
      output.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, output, exited };
}

function tail(running: PlatformProcess | undefined): string {
  return running ? `--- platform output (tail) ---\n${running.output.join("").slice(-6000)}` : "";
}

async function startPlatform(): Promise<PlatformProcess> {
  const running = startPlatformProcess();
  try {
    await waitForHttp(`${serverUrl}/health`, {
      timeoutMs: 120_000,
      alive: () =>
        running.child.exitCode === null
          ? undefined
          : `the platform exited with code ${running.child.exitCode}`,
    });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail(running)}`);
  }
  return running;
}

async function killPlatform(running: PlatformProcess, signal: NodeJS.Signals) {
  const pid = running.child.pid;
  if (pid === undefined || running.child.exitCode !== null || running.child.signalCode !== null) {
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
  await running.exited;
}

async function emailByMessageId(messageId: string) {
  const [row] = await handle.db
    .select()
    .from(boxEmail)
    .where(
      and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "inbound"), eq(boxEmail.messageId, messageId)),
    );
  return row;
}

async function runsOfEmail(emailId: string) {
  return handle.db
    .select()
    .from(boxRun)
    .where(eq(boxRun.emailId, emailId))
    .orderBy(asc(boxRun.createdAt), asc(boxRun.id));
}

async function repliesInThread(threadId: string) {
  const rows = await handle.db
    .select()
    .from(boxEmail)
    .where(and(eq(boxEmail.boxId, boxId), eq(boxEmail.direction, "outbound")));
  return rows.filter((row) => row.threadId === threadId);
}

beforeAll(async () => {
  fake = await startFakeAnthropic({
    respond: async (conversation) => {
      const prompt = conversation.lastUserText() ?? "";
      const marker = SLOW_MARKERS.find((candidate) => prompt.includes(candidate));
      const turn = marker ? heldTurn(marker) : undefined;
      if (turn && !turn.held && conversation.pendingToolResults().length === 0) {
        await turn.hold();
      }
      return script(conversation);
    },
  });
  resend = await startFakeResend();
  database = await createScratchDatabase({ prefix: "vps_pkill" });
  handle = createDatabase({ url: database.url, max: 4 });
  workDir = await mkdtemp(join(tmpdir(), "vps-pkill-"));
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}`;
  const spritesToken = randomBytes(16).toString("hex");
  // Its own process, which outlives the platform's kill: the box keeps working meanwhile.
  sprites = await startSpritesLocalProcess({
    platformUrl: serverUrl,
    dataDir: join(workDir, "sprites"),
    token: spritesToken,
    idleMs: 30 * 60_000,
    readOnlyBinds: [REPO_NODE_MODULES],
  });
  spritesClient = createSpritesClient({
    token: spritesToken,
    baseUrl: sprites.url,
    logger: createLogger({ name: "pkill-sprites", level: "silent" }),
  });
  const bundle = await testBoxAgentBundle();
  platformEnv = {
    PATH: String(process.env.PATH),
    HOME: String(process.env.HOME),
    NODE_ENV: "test",
    PORT: String(port),
    HOST: "127.0.0.1",
    SERVER_ROLE: "all",
    SERVER_URL: serverUrl,
    PUBLIC_URL: publicUrl,
    DATABASE_URL: database.url,
    REDIS_URL: requireEnv("REDIS_URL"),
    QUEUE_PREFIX: queuePrefix,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    ENCRYPTION_KEY: generateEncryptionKey(),
    AUTH_RATE_LIMIT: "off",
    SANDBOX_UNCONFINED_OK: "1",
    LOG_LEVEL: "warn",
    DATA_DIR: join(workDir, "data"),
    SMTP_ENABLED: "off",
    SPRITES_API_URL: sprites.url,
    SPRITES_LOCAL_TOKEN: spritesToken,
    BOX_AGENT_BUNDLE: bundle,
    SPRITE_NAME_PREFIX: `k${randomBytes(2).toString("hex")}-`,
    DEPLOY_HEALTH_TIMEOUT_MS: "60000",
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: "sk-ant-test",
    RESEND_API_KEY: resend.apiKey,
    RESEND_BASE_URL: resend.url,
    RESEND_WEBHOOK_SECRET: secret,
    EMAIL_DELIVERY_RETRY_BASE_MS: "500",
  };
  platform = await startPlatform();

  client = new TestClient({ url: serverUrl, publicUrl });
  await client.signUp();
  const created = await client.post("/rpc/box", { name: "Night shift" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  address = String(created.body.email);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}\n${tail(platform)}`);
  }
}, 420_000);

afterAll(async () => {
  for (const turn of heldTurns.values()) {
    turn.release();
  }
  if (platform) {
    await killPlatform(platform, "SIGKILL");
  }
  await sprites?.close();
  await handle?.close();
  await database?.drop();
  const redis = createRedis(requireEnv("REDIS_URL"), "producer");
  try {
    await waitForRedis(redis);
    await deleteKeysWithPrefix(redis, queuePrefix);
  } finally {
    redis.disconnect();
  }
  await resend?.close();
  await fake?.close();
  if (workDir) {
    await rm(workDir, { recursive: true, force: true });
  }
}, 120_000);

/** Sends an email through the signed webhook and waits until Claude is in its held model turn. */
async function emailInHeldTurn(marker: SlowMarker, subject: string, messageId: string) {
  const hook = resend.signedEmailReceivedWebhook(
    resend.addInboundEmail({
      from: "Owner <owner@example.com>",
      to: [address],
      subject,
      text: `Please think about this overnight and answer. ${marker}`,
      messageId,
    }),
    { secret },
  );
  const res = await fetch(`${serverUrl}/webhooks/inbound-email`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(hook.headers as unknown as Record<string, string>) },
    body: hook.body,
  });
  expect(res.status, await res.clone().text()).toBe(200);

  await Promise.race([
    heldTurn(marker).arrived,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`the email's model turn never started\n${tail(platform)}`)), 180_000),
    ),
  ]);
  const email = await emailByMessageId(messageId);
  if (!email) {
    throw new Error("the email was not stored");
  }
  await waitFor(
    async () => (await runsOfEmail(email.id))[0]?.status,
    (status) => status === "running",
    { timeout: 60_000, what: "the email's run to be running" },
  );
  expect(await repliesInThread(messageId)).toEqual([]);
  return email;
}

async function sigkillPlatform() {
  if (!platform) {
    throw new Error("the platform is not running");
  }
  await killPlatform(platform, "SIGKILL");
  expect(platform.child.signalCode).toBe("SIGKILL");
}

async function waitEmailEnded(messageId: string, what: string) {
  return waitFor(
    () => emailByMessageId(messageId),
    (row) => row?.status === "processed" || row?.status === "failed",
    { timeout: 360_000, interval: 500, what },
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail(platform)}`);
  });
}

/** The email was failed with its one run interrupted: the owner's retry answers it with a second run. */
async function expectInterruptedThenRetried(emailId: string, messageId: string, errorMessage: string | null) {
  const [interrupted, ...others] = await runsOfEmail(emailId);
  expect(others).toEqual([]);
  expect(interrupted?.status, String(interrupted?.error)).toBe("interrupted");
  expect(errorMessage).toMatch(/^the run was interrupted: .+; retry it$/);
  expect(await repliesInThread(messageId)).toEqual([]);
  const retried = await client.post(`/rpc/box/${boxId}/emails/${emailId}/retry`);
  expect(retried.status, JSON.stringify(retried.body)).toBe(200);
  const answered = await waitEmailEnded(messageId, "the retried email to end");
  expect(answered?.status, String(answered?.errorMessage)).toBe("processed");
  const runs = await runsOfEmail(emailId);
  expect(runs.map((run) => run.status)).toEqual(["interrupted", "completed"]);
  expect(runs[1]?.retryOf).toBe(interrupted?.id);
}

/** Answered once: one reply recorded in the thread, one handed to the provider; the email names its last run. */
async function expectAnsweredOnce(emailId: string, messageId: string, subject: string) {
  expect(await repliesInThread(messageId)).toHaveLength(1);
  await expect
    .poll(() => resend.sentEmails.filter((sent) => sent.subject === `Re: ${subject}`).length, {
      timeout: 60_000,
    })
    .toBe(1);
  const view = await client.get(`/rpc/box/${boxId}/emails/${emailId}`);
  expect(view.body).toMatchObject({ status: "processed" });
  expect(view.body.runId).toBe((await runsOfEmail(emailId)).at(-1)?.id);
}

describe("the platform SIGKILLed while Claude answers an email", () => {
  it("ends the email answered exactly once, or failed with an interrupted run whose retry answers it", async ({
    annotate,
  }) => {
    const subject = "Overnight question";
    const messageId = "<overnight-1@example.com>";
    const email = await emailInHeldTurn("SLOW-OVERNIGHT", subject, messageId);

    await sigkillPlatform();
    // The model answers into the dead platform's closed connection; the CLI's retry gets a fresh answer.
    heldTurn("SLOW-OVERNIGHT").release();
    platform = await startPlatform();

    const ended = await waitEmailEnded(messageId, "the email to end processed or failed");
    const [firstRun] = await runsOfEmail(email.id);
    await annotate(
      `after the kill the email ended ${ended?.status} (${ended?.errorMessage ?? "no error"}); its run ${firstRun?.status}, ${firstRun?.durationMs} ms`,
    );
    if (ended?.status === "failed") {
      await expectInterruptedThenRetried(email.id, messageId, ended.errorMessage);
    } else {
      expect(ended?.status).toBe("processed");
      const runs = await runsOfEmail(email.id);
      expect(runs.map((run) => run.status)).toEqual(["completed"]);
      // Its true duration: from its start in the box, through the platform's death, to its end.
      expect(runs[0]?.durationMs).toBeGreaterThan(0);
    }
    await expectAnsweredOnce(email.id, messageId, subject);
  }, 600_000);

  it("when box-agent also dies with it, the email shows its run interrupted, and the owner's retry answers it", async () => {
    const subject = "Second overnight question";
    const messageId = "<overnight-2@example.com>";
    const email = await emailInHeldTurn("SLOW-AGAIN", subject, messageId);
    const [row] = await handle.db.select().from(box).where(eq(box.id, boxId));
    const spriteName = String(row?.spriteName);

    await sigkillPlatform();
    // The box's daemon goes too, Claude's turn with it; the run it had in flight is lost in the box.
    await spritesClient.deleteService(spriteName, "box-agent");
    heldTurn("SLOW-AGAIN").release();
    platform = await startPlatform();
    // The owner brings the box back the way a redeploy does.
    const redeploy = await client.post("/rpc/box/deploy", { id: boxId });
    expect(redeploy.status, JSON.stringify(redeploy.body)).toBe(200);

    const ended = await waitEmailEnded(messageId, "the email to end failed (its run interrupted)");
    expect(ended?.status, String(ended?.errorMessage)).toBe("failed");
    await waitFor(
      async () => (await client.get(`/rpc/box/${boxId}`)).body.status,
      (status) => status === "running" || status === "error",
      { timeout: 180_000, interval: 500, what: "the redeploy to finish" },
    );
    await expectInterruptedThenRetried(email.id, messageId, ended?.errorMessage ?? null);
    await expectAnsweredOnce(email.id, messageId, subject);
  }, 600_000);
});
