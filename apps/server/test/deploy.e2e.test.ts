import { boxCronjob, boxDeployStep } from "@vps-claude/db";
import { anthropicReply, type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

/**
 * The whole path a user takes: create a box through the API, watch the BullMQ flow deploy it into a
 * real sprites-local sandbox, then talk to Claude in it — the real Agent SDK and CLI inside the
 * box, against a scripted fake Messages API.
 */
const script = scriptedClaude({
  rules: [
    {
      when: "SCHEDULE",
      reply: anthropicReply.toolUse("mcp__box-agent__cronjob_create", {
        name: "Morning digest",
        schedule: "0 9 * * *",
        prompt: "Summarize my inbox",
        timezone: "Europe/Paris",
      }),
    },
  ],
});

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;

async function waitForStatus(id: string, wanted: string[], timeoutMs = 120_000) {
  let last: Record<string, unknown> = {};
  await expect
    .poll(
      async () => {
        last = (await client.get(`/rpc/box/${id}`)).body;
        return wanted.includes(String(last.status));
      },
      { timeout: timeoutMs, interval: 300 },
    )
    .toBe(true);
  return last;
}

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond: script });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test-platform-key" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "60000" },
  });
  ({ client } = await signedInClient(server));
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe("a box comes alive", () => {
  it("deploys through every step to running", async () => {
    const created = await client.post("/rpc/box", { name: "Alive", skills: ["note-keeper", "web-research"] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    boxId = String(created.body.id);

    const running = await waitForStatus(boxId, ["running", "error"]);
    expect(running.status, JSON.stringify(running)).toBe("running");
    expect(String(running.spriteUrl)).toContain("/proxy/");

    const { body } = await client.get(`/rpc/box/${boxId}/deploy-steps`);
    const steps = (
      body as unknown as { steps: { step: string; status: string; durationMs: number | null }[] }
    ).steps;
    expect(steps.map((s) => s.step)).toEqual([
      "orchestrator",
      "createSprite",
      "setupStep",
      "healthCheck",
      "skillsGate",
      "installSkill:note-keeper",
      "installSkill:web-research",
      "enableAccess",
      "finalize",
    ]);
    expect(
      steps.every((s) => s.status === "completed"),
      JSON.stringify(steps),
    ).toBe(true);
    expect(steps.every((s) => typeof s.durationMs === "number")).toBe(true);
  });

  it("answers /health through the sprite URL, and the skills are in the box", async () => {
    const [row] = await server.deps.db.select().from(boxDeployStep).where(eq(boxDeployStep.boxId, boxId));
    expect(row).toBeDefined();
    const { box } = await import("@vps-claude/db");
    const [target] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
    const spriteName = String(target?.spriteName);
    const health = await server.deps.sprites.fetchSprite(spriteName, "/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, boxId });

    const skill = await server.deps.sprites.exec(spriteName, "cat ~/.claude/skills/note-keeper/SKILL.md");
    expect(skill.stdout).toContain("name: note-keeper");
    // The token is in the box only as a 0600 file, never in the service's command line.
    const mode = await server.deps.sprites.exec(spriteName, "stat -c %a ~/.box-agent/config.json");
    expect(mode.stdout.trim()).toBe("600");
    // The owner's access password exists once EnableAccess ran, is stable, and is ciphertext at rest.
    const access = await client.get(`/rpc/box/${boxId}/access`);
    expect(String(access.body.password)).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(target?.accessPassword).toMatch(/^v1\./);
    expect(target?.accessPassword).not.toContain(String(access.body.password));
    // Without the token, box-agent refuses everything but /health.
    const anonymous = await server.deps.sprites.fetchSprite(spriteName, "/sessions/list");
    expect(anonymous.status).toBe(401);
  });

  it("lets the owner talk to Claude, which creates a cronjob through MCP", async () => {
    const res = await client.post(`/rpc/box/${boxId}/sessions/send`, {
      contextId: "chat",
      message: "SCHEDULE a morning digest",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status, JSON.stringify(res.body)).toBe("completed");
    expect(String(res.body.result)).toContain("cronjob_create answered");

    const cronjobs = await server.deps.db.select().from(boxCronjob).where(eq(boxCronjob.boxId, boxId));
    expect(cronjobs).toMatchObject([
      { name: "Morning digest", schedule: "0 9 * * *", timezone: "Europe/Paris" },
    ]);
    const scheduler = (await server.deps.queues.get("triggerCronjob").getJobSchedulers()).find(
      (s) => s.key === `cronjob-${cronjobs[0]?.id}`,
    );
    expect(scheduler?.pattern).toBe("0 9 * * *");
  });

  it("resumes the same Claude session on the next message", async () => {
    const first = fake.messageRequests().find((r) => r.conversation.lastUserText()?.includes("SCHEDULE"));
    const res = await client.post(`/rpc/box/${boxId}/sessions/send`, {
      contextId: "chat",
      message: "and now?",
    });
    expect(res.body.status, JSON.stringify(res.body)).toBe("completed");
    expect(res.body.result).toBe("You said: and now?");
    const last = fake.messageRequests().at(-1);
    expect(last?.sessionId).toBe(first?.sessionId);
    expect(last?.conversation.userTexts().some((text) => text.includes("SCHEDULE"))).toBe(true);
    const sessions = (await client.get(`/rpc/box/${boxId}/sessions`)).body as unknown as {
      sessions: { contextId: string; sessionId: string }[];
    };
    expect(sessions.sessions.find((s) => s.contextId === "chat")?.sessionId).toBe(res.body.sessionId);
  });

  it("runs a cronjob tick in the cronjob's own session and records it", async () => {
    const cronjobs = (await client.get(`/rpc/box/${boxId}/cronjobs`)).body as unknown as { id: string }[];
    const cronjobId = String(cronjobs[0]?.id);
    const run = await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/run`);
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    let executions: {
      status: string;
      durationMs: number | null;
      sessionId: string | null;
      errorMessage: string | null;
    }[] = [];
    await expect
      .poll(
        async () => {
          executions = (await client.get(`/rpc/box/${boxId}/cronjobs/${cronjobId}/executions`))
            .body as unknown as typeof executions;
          return executions[0]?.status;
        },
        { timeout: 60_000, interval: 300 },
      )
      .toMatch(/completed|failed/);
    expect(executions[0], JSON.stringify(executions[0])).toMatchObject({ status: "completed" });
    expect(executions[0]?.durationMs).toBeGreaterThan(0);
    const cronRequest = fake
      .messageRequests()
      .find((r) => r.conversation.lastUserText()?.includes("Summarize my inbox"));
    expect(cronRequest, "the cron prompt reached Claude").toBeDefined();
    expect(cronRequest?.sessionId).toBe(executions[0]?.sessionId);

    // A disabled cronjob's tick is still recorded, as skipped with the reason (nothing failed).
    await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/toggle`, { enabled: false });
    await client.post(`/rpc/box/${boxId}/cronjobs/${cronjobId}/run`);
    await expect
      .poll(
        async () =>
          (
            (await client.get(`/rpc/box/${boxId}/cronjobs/${cronjobId}/executions`))
              .body as unknown as unknown[]
          ).length,
        {
          timeout: 20_000,
        },
      )
      .toBe(2);
    const latest = (
      (await client.get(`/rpc/box/${boxId}/cronjobs/${cronjobId}/executions`))
        .body as unknown as typeof executions
    )[0];
    expect(latest).toMatchObject({ status: "skipped", errorMessage: "cronjob is disabled" });
  });

  it("lets the owner browse, read and write files in the box's home, and nowhere else", async () => {
    const written = await client.post(`/rpc/box/${boxId}/fs/write`, {
      path: "notes/todo.md",
      content: "- buy milk\n",
    });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    expect(written.body).toMatchObject({ path: "/home/sprite/notes/todo.md", size: 11 });
    const listing = await client.get(`/rpc/box/${boxId}/fs/list?path=notes`);
    expect(listing.body).toMatchObject({
      path: "/home/sprite/notes",
      entries: [{ name: "todo.md", type: "file" }],
    });
    const home = await client.get(`/rpc/box/${boxId}/fs/list`);
    expect((home.body as unknown as { entries: { name: string }[] }).entries.map((e) => e.name)).toEqual(
      expect.arrayContaining([".box-agent", "notes"]),
    );
    const read = await client.get(`/rpc/box/${boxId}/fs/read?path=${encodeURIComponent("~/notes/todo.md")}`);
    expect(read.body).toMatchObject({ encoding: "utf8", content: "- buy milk\n" });

    expect((await client.get(`/rpc/box/${boxId}/fs/read?path=nope.txt`)).status).toBe(404);
    for (const outside of ["../../etc/passwd", "/etc/passwd", "notes/../../../etc"]) {
      const res = await client.get(`/rpc/box/${boxId}/fs/read?path=${encodeURIComponent(outside)}`);
      expect(res.status, outside).toBe(400);
      expect(String(res.body.message)).toContain("outside the box's home");
    }
    const { box } = await import("@vps-claude/db");
    const [target] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
    await server.deps.sprites.exec(String(target?.spriteName), "ln -sfn /etc ~/etc-link");
    const viaLink = await client.get(`/rpc/box/${boxId}/fs/read?path=etc-link/hostname`);
    expect(viaLink.status).toBe(400);
    expect(String(viaLink.body.message)).toContain("leads outside the box's home");
    const writeViaLink = await client.post(`/rpc/box/${boxId}/fs/write`, {
      path: "etc-link/evil",
      content: "x",
    });
    expect(writeViaLink.status).toBe(400);
  });

  it("deletes the box and its sandbox", async () => {
    const { box } = await import("@vps-claude/db");
    const [target] = await server.deps.db.select().from(box).where(eq(box.id, boxId));
    expect((await client.delete(`/rpc/box/${boxId}`)).status).toBe(200);
    await expect
      .poll(async () => (await client.get(`/rpc/box/${boxId}`)).status, { timeout: 30_000 })
      .toBe(404);
    expect(await server.deps.sprites.getSprite(String(target?.spriteName))).toBeNull();
  });
});
