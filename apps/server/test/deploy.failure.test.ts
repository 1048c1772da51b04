import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { box, boxDeployStep } from "@vps-claude/db";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  signedInClient,
  startTestServer,
  type TestClient,
  type TestServer,
  testBoxAgentBundle,
} from "./harness";

const SERVER_MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

const servers: TestServer[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
  }
});
afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(options: Parameters<typeof startTestServer>[0]) {
  const server = await startTestServer(options);
  servers.push(server);
  const { client } = await signedInClient(server);
  return { server, client };
}

async function boxRow(server: TestServer, id: string) {
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, id));
  return row;
}

async function stepRow(server: TestServer, boxId: string, step: string) {
  const [row] = await server.deps.db
    .select()
    .from(boxDeployStep)
    .where(and(eq(boxDeployStep.boxId, boxId), eq(boxDeployStep.step, step)));
  return row;
}

async function waitForBox(server: TestServer, id: string, statuses: string[], timeout = 90_000) {
  await expect
    .poll(async () => statuses.includes(String((await boxRow(server, id))?.status)), {
      timeout,
      interval: 200,
    })
    .toBe(true);
  return boxRow(server, id);
}

async function createBox(client: TestClient, name: string) {
  const res = await client.post("/rpc/box", { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

describe("deploy failures", () => {
  it("retries a step that fails, and finishes once the cause is gone", async () => {
    const missingBundle = join(await mkdtemp(join(tmpdir(), "late-bundle-")), "box-agent.mjs");
    const { server, client } = await setup({
      workers: true,
      sprites: true,
      env: { BOX_AGENT_BUNDLE: missingBundle },
    });
    const id = await createBox(client, "flaky");

    await expect
      .poll(async () => (await stepRow(server, id, "setupStep"))?.errorMessage ?? "", {
        timeout: 30_000,
        interval: 100,
      })
      .toContain("attempt 1 of 3 failed: the box-agent bundle is missing");
    await copyFile(await testBoxAgentBundle(), missingBundle);

    const done = await waitForBox(server, id, ["running", "error"]);
    expect(done?.status, String(done?.errorMessage)).toBe("running");
    expect((await stepRow(server, id, "setupStep"))?.attempt).toBeGreaterThanOrEqual(2);
  });

  it("puts the box in error with the step's reason when a step keeps failing", async () => {
    const { server, client } = await setup({
      workers: true,
      sprites: true,
      env: { BOX_AGENT_BUNDLE: "/nonexistent/box-agent.mjs" },
    });
    const id = await createBox(client, "doomed");
    const failed = await waitForBox(server, id, ["error", "running"]);
    expect(failed?.status).toBe("error");
    expect(failed?.errorMessage).toBe(
      "Install box-agent failed: the box-agent bundle is missing at /nonexistent/box-agent.mjs: build it with 'npm run -w @vps-claude/box-agent build' (npm start does this)",
    );
    const setupRow = await stepRow(server, id, "setupStep");
    expect(setupRow).toMatchObject({ status: "failed", attempt: 3 });
    // The steps after it never ran.
    expect((await stepRow(server, id, "finalize"))?.status).toBe("pending");

    // The owner sees the same reason through the API.
    const view = await client.get(`/rpc/box/${id}`);
    expect(view.body.errorMessage).toBe(failed?.errorMessage);
  });

  // It starts processes (a worker, a Claude CLI) whose start-up alone takes seconds on a busy 2-core machine.
  it("finishes a deploy whose worker was killed mid-way, with one sprite", async () => {
    // The API runs in-process; the workers run in a separate server process we can kill.
    const { server, client } = await setup({ workers: false, sprites: true });
    const workerEnv = {
      ...process.env,
      SERVER_ROLE: "worker",
      DATABASE_URL: server.config.DATABASE_URL,
      REDIS_URL: server.config.REDIS_URL,
      QUEUE_PREFIX: server.config.QUEUE_PREFIX,
      BETTER_AUTH_SECRET: server.config.BETTER_AUTH_SECRET,
      ENCRYPTION_KEY: server.config.ENCRYPTION_KEY,
      SERVER_URL: server.config.SERVER_URL,
      SPRITES_API_URL: String(server.config.SPRITES_API_URL),
      SPRITES_LOCAL_TOKEN: String(server.config.SPRITES_LOCAL_TOKEN),
      BOX_AGENT_BUNDLE: server.config.BOX_AGENT_BUNDLE,
      SPRITE_NAME_PREFIX: server.config.SPRITE_NAME_PREFIX,
      DATA_DIR: server.config.DATA_DIR,
      DEPLOY_LOCK_MS: "2000",
      LOG_LEVEL: "warn",
    };
    const startWorker = () => {
      const child = spawn(process.execPath, ["--import", "tsx", SERVER_MAIN], {
        env: workerEnv,
        stdio: "ignore",
      });
      children.push(child);
      return child;
    };

    const first = startWorker();
    const id = await createBox(client, "survivor");
    await expect
      .poll(async () => (await stepRow(server, id, "createSprite"))?.status ?? "", {
        timeout: 60_000,
        interval: 50,
      })
      .toMatch(/running|completed/);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));

    startWorker();
    const done = await waitForBox(server, id, ["running", "error"], 120_000);
    expect(done?.status, String(done?.errorMessage)).toBe("running");
    const sprites = await server.deps.sprites.listSprites(server.config.SPRITE_NAME_PREFIX);
    expect(sprites.map((sprite) => sprite.name)).toEqual([done?.spriteName]);
  }, 120_000);

  it("deleting a box during its deploy leaves no box and no sprite", async () => {
    const { server, client } = await setup({ workers: true, sprites: true });
    const id = await createBox(client, "short-lived");
    await expect
      .poll(async () => (await stepRow(server, id, "createSprite"))?.status ?? "", {
        timeout: 30_000,
        interval: 50,
      })
      .toMatch(/running|completed/);
    expect((await client.delete(`/rpc/box/${id}`)).status).toBe(200);
    await expect.poll(async () => (await boxRow(server, id)) === undefined, { timeout: 30_000 }).toBe(true);
    // Steps already queued find the box gone and stop; give them a moment, then nothing may remain.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await server.deps.sprites.listSprites(server.config.SPRITE_NAME_PREFIX)).toEqual([]);
  });

  it("collapses redeploys requested while a deploy runs into that deploy", async () => {
    const { server, client } = await setup({ workers: true, sprites: true });
    const id = await createBox(client, "impatient");
    const deployId = (await boxRow(server, id))?.deployId;
    for (let i = 0; i < 3; i++) {
      const again = await client.post("/rpc/box/deploy", { id });
      expect(again.status).toBe(200);
    }
    expect((await boxRow(server, id))?.deployId).toBe(deployId);
    const done = await waitForBox(server, id, ["running", "error"]);
    expect(done?.status).toBe("running");
    const steps = await server.deps.db.select().from(boxDeployStep).where(eq(boxDeployStep.boxId, id));
    expect(new Set(steps.map((step) => step.deployId))).toEqual(new Set([deployId]));

    // Once running, a redeploy is a fresh deploy that runs to the end again, on the same sprite,
    // keeping the owner's access password.
    const password = (await client.get(`/rpc/box/${id}/access`)).body.password;
    expect(password).toBeTruthy();
    const redeploy = await client.post("/rpc/box/deploy", { id });
    expect(redeploy.body.status).toBe("pending");
    const again = await waitForBox(server, id, ["running", "error"]);
    expect(again?.deployId).not.toBe(deployId);
    expect(again?.spriteName).toBe(done?.spriteName);
    expect(await server.deps.sprites.listSprites(server.config.SPRITE_NAME_PREFIX)).toHaveLength(1);
    expect((await client.get(`/rpc/box/${id}/access`)).body.password).toBe(password);
  });
});
