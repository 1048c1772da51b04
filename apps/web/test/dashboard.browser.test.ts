import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRedis, waitForRedis } from "@vps-claude/redis";
import { createSpritesLocal, type SpritesLocal } from "@vps-claude/sprites-local";
import {
  createScratchDatabase,
  deleteKeysWithPrefix,
  freePort,
  REPO_NODE_MODULES,
  requireEnv,
  type ScratchDatabase,
  testBoxAgentBundle,
  waitForHttp,
} from "@vps-claude/testing/platform";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDashboardBuilt } from "./browser-harness";

const { join } = path;

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(webDir, "../..");
const serverEntry = path.join(repoRoot, "apps/server/src/main.ts");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;

interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
}

const services: Service[] = [];

function start(name: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Service {
  // detached: the child leads its own process group, so next-server grandchildren die with it.
  const child = spawn(process.execPath, args, {
    ...options,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const service: Service = { name, child, output: [] };
  const keep = (chunk: Buffer) => {
    service.output.push(chunk.toString());
    if (service.output.length > 200) {
      service.output.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  services.push(service);
  return service;
}

function outputOf(service: Service): string {
  return `--- ${service.name} output (tail) ---\n${service.output.join("").slice(-4000)}`;
}

async function stop(service: Service): Promise<void> {
  const { child } = service;
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup("SIGTERM");
  const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  // Grandchildren may outlive the leader; make sure none of the group is left.
  signalGroup("SIGKILL");
}

async function waitForService(url: string, service: Service, timeoutMs: number): Promise<void> {
  const alive = () =>
    service.child.exitCode === null ? undefined : `exited with code ${service.child.exitCode}`;
  try {
    await waitForHttp(url, { timeoutMs, alive });
  } catch (error) {
    throw new Error(
      `${service.name}: ${error instanceof Error ? error.message : String(error)}\n${outputOf(service)}`,
    );
  }
}

let database: ScratchDatabase | undefined;
let redisUrl = "";
let browser: Browser | undefined;
let webUrl = "";
let spritesLocal: SpritesLocal | undefined;
let dataDir = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's browser with 'apt-get install -y chromium'`);
  }
  redisUrl = requireEnv("REDIS_URL");
  database = await createScratchDatabase({ prefix: "web_test" });

  const [serverPort, webPort] = [await freePort(), await freePort()];
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  webUrl = `http://localhost:${webPort}`;

  const builtDashboard = ensureDashboardBuilt();
  // A real sandbox host, so boxes deploy and deletes finish as they do for a user of `npm start`.
  dataDir = mkdtempSync(join(tmpdir(), "web-test-data-"));
  const spritesToken = randomBytes(16).toString("hex");
  spritesLocal = await createSpritesLocal({
    dataDir: join(dataDir, "sprites"),
    token: spritesToken,
    port: 0,
    // Boxes reach the server from their own network namespaces through this URL only.
    platformUrl: serverUrl,
    readOnlyBinds: [REPO_NODE_MODULES],
  });
  const bundle = await testBoxAgentBundle();
  const server = start("api server", ["--import", "tsx", serverEntry], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(serverPort),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: database.name,
      BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      PUBLIC_URL: webUrl,
      SERVER_URL: serverUrl,
      SERVER_ROLE: "all",
      LOG_LEVEL: "warn",
      // Several sign-ups and sign-ins from one address within seconds would trip the limiter.
      AUTH_RATE_LIMIT: "off",
      SPRITES_API_URL: spritesLocal.url,
      SPRITES_LOCAL_TOKEN: spritesToken,
      BOX_AGENT_BUNDLE: bundle,
      SPRITE_NAME_PREFIX: "web-",
      DATA_DIR: dataDir,
      SMTP_ENABLED: "off",
    },
  });
  await builtDashboard;
  const web = start("next start", [nextBin, "start", "-p", String(webPort), "-H", "127.0.0.1"], {
    cwd: webDir,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", SERVER_URL: serverUrl },
  });
  await Promise.all([
    waitForService(`${serverUrl}/health`, server, 90_000),
    waitForService(`http://127.0.0.1:${webPort}/sign-in`, web, 60_000),
  ]);

  // Playwright gives the browser a fresh, temporary user-data-dir and removes it on close.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  if (screenshotDir) {
    mkdirSync(screenshotDir, { recursive: true });
  }
}, 240_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all(services.map(stop));
  await spritesLocal?.close();
  if (dataDir) {
    rmSync(dataDir, { recursive: true, force: true });
  }
  await database?.drop();
  if (database && redisUrl) {
    // The server's queues live under QUEUE_PREFIX = the database's name; leave nothing behind in the shared Redis.
    const redis = createRedis(redisUrl, "producer");
    try {
      await waitForRedis(redis);
      await deleteKeysWithPrefix(redis, database.name);
    } finally {
      redis.disconnect();
    }
  }
}, 60_000);

async function snap(page: Page, name: string): Promise<void> {
  if (screenshotDir) {
    await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
  }
}

async function signUp(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
}

/** Waits on the box page's status badge; a failed deploy fails at once, with the page's own explanation. */
async function waitForRunning(page: Page, timeoutMs: number): Promise<void> {
  const badge = page.getByTestId("box-detail").getByTestId("box-status");
  const deadline = Date.now() + timeoutMs;
  let status: string | null = null;
  while (Date.now() < deadline) {
    status = await badge.getAttribute("data-status");
    if (status === "running") {
      return;
    }
    if (status === "error") {
      throw new Error(`the box failed to deploy: ${await page.getByTestId("box-error").textContent()}`);
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`the box was still ${status} after ${timeoutMs} ms`);
}

/** A page in its own browser context: no cookies shared with other tests. */
async function openPage(): Promise<Page> {
  if (!browser) {
    throw new Error("the browser did not start");
  }
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  return context.newPage();
}

describe("dashboard in a browser", () => {
  const password = "correct horse battery";
  const boxName = "Research assistant";

  it("signs up, creates a box, sees it listed, opens it, and deletes it", async () => {
    const page = await openPage();
    const email = `ann-${randomBytes(4).toString("hex")}@example.com`;

    await page.goto(`${webUrl}/`);
    await page.waitForURL(/\/sign-in$/);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(/\/sign-up$/);

    await page.getByLabel("Name").fill("Ann Example");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByTestId("auth-error").textContent()).toMatch(/at least 8 characters/);
    await snap(page, "01-sign-up-error");

    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${webUrl}/`);
    await page.getByTestId("boxes-empty").waitFor();
    expect(await page.getByTestId("user-email").textContent()).toBe(email);
    await snap(page, "02-empty");

    await page.getByLabel("Box name").fill(boxName);
    await page.getByRole("button", { name: "Create box", exact: true }).click();
    const item = page.getByTestId("box-item").filter({ hasText: boxName });
    await item.waitFor();
    expect(await item.getAttribute("data-box-id")).toMatch(/^box_/);
    expect(await item.getByTestId("box-email").textContent()).toMatch(/^research-assistant-[a-z0-9]{4}@/);
    expect(await item.getByTestId("box-status").getAttribute("data-status")).toMatch(
      /^(pending|deploying|running|error)$/,
    );
    await snap(page, "03-created");

    // Rendered on the server this time, from the cookie the proxy passed back.
    await page.reload();
    await item.waitFor();

    await item.getByTestId("box-name").click();
    await page.waitForURL(/\/boxes\/box_/);
    expect(await page.getByTestId("box-detail-name").textContent()).toBe(boxName);
    expect(await page.getByTestId("box-detail-email").textContent()).toMatch(
      /^research-assistant-[a-z0-9]{4}@/,
    );
    await snap(page, "04-detail");
    await page.getByRole("link", { name: "Boxes" }).first().click();
    await page.waitForURL(`${webUrl}/`);

    await item.getByRole("button", { name: `Delete ${boxName}` }).click();
    // A confirm of a destructive step is an alertdialog (the kit's AlertDialog).
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    await snap(page, "05-confirm-delete");
    await dialog.getByRole("button", { name: "Delete box" }).click();
    // The worker removes the sandbox and then the box; the list polls until it is gone.
    await item.waitFor({ state: "detached", timeout: 60_000 });
    await page.getByTestId("boxes-empty").waitFor();
    await snap(page, "06-deleted");
    await page.context().close();
  }, 120_000);

  it("runs a box from its page: deploy steps, cronjobs, secret env vars, files, and credentials in settings", async () => {
    const page = await openPage();
    await signUp(page, "Cat Example", `cat-${randomBytes(4).toString("hex")}@example.com`, password);

    // Skills come from the server's catalog; pick the first one offered.
    const skill = page.getByTestId("skill-option").first();
    await skill.waitFor();
    const skillName = await skill.getAttribute("data-skill");
    expect(skillName).toMatch(/^[a-z0-9-]+$/);
    await skill.getByRole("checkbox").check();
    await page.getByLabel("Box name").fill("Control room");
    await page.getByRole("button", { name: "Create box", exact: true }).click();
    const item = page.getByTestId("box-item").filter({ hasText: "Control room" });
    await item.getByTestId("box-name").click();
    await page.waitForURL(/\/boxes\/box_/);

    // Without a sandbox host the deploy waits or fails: either way the page must say where it stands.
    await page.getByTestId("deploy-timeline").waitFor();
    await expect
      .poll(
        async () =>
          (await page.getByTestId("deploy-step").count()) > 0 ||
          (await page.getByTestId("box-error").count()) > 0,
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(await page.getByTestId("overview-email").textContent()).toMatch(/^control-room-[a-z0-9]{4}@/);
    expect(await page.getByTestId("panel-overview").textContent()).toContain(skillName);
    await snap(page, "08-deploy-timeline");

    await page.getByRole("tab", { name: "Cronjobs" }).click();
    await page.getByTestId("cronjobs-empty").waitFor();
    const cronForm = page.getByTestId("cronjob-create-form");
    await cronForm.getByLabel("Name").fill("Hourly check");
    await cronForm.getByLabel("Schedule").fill("61 * * * *");
    await cronForm.getByLabel("Timezone").fill("Europe/Berlin");
    await cronForm.getByLabel("Prompt").fill("Look at the inbox and tell me what is new.");
    await cronForm.getByRole("button", { name: "Add cronjob" }).click();
    await expect
      .poll(() => page.getByTestId("cronjob-schedule-error").textContent())
      .toBe("cron expression '61 * * * *': minute must be 0–59, got 61");
    await snap(page, "09-cron-validation");

    await cronForm.getByLabel("Schedule").fill("5 * * * *");
    await cronForm.getByRole("button", { name: "Add cronjob" }).click();
    const cronjob = page.getByTestId("cronjob-item").filter({ hasText: "Hourly check" });
    await cronjob.waitFor();
    expect(await cronjob.getByTestId("cronjob-schedule-text").textContent()).toBe("5 * * * *");
    expect(await cronjob.textContent()).toContain("Europe/Berlin");
    await cronjob.getByRole("switch").click();
    await expect.poll(() => cronjob.getAttribute("data-enabled")).toBe("false");
    await snap(page, "10-cronjob");
    await cronjob.getByRole("button", { name: "Delete Hourly check" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete cronjob" }).click();
    await cronjob.waitFor({ state: "detached" });
    await page.getByTestId("cronjobs-empty").waitFor();

    const secret = "s3cret-value-never-shown";
    await page.getByRole("tab", { name: "Env vars" }).click();
    const envForm = page.getByTestId("env-create-form");
    await envForm.getByLabel("Key").fill("API_TOKEN");
    await envForm.getByLabel("Type").click();
    await page.getByRole("option", { name: "Secret" }).click();
    await envForm.getByLabel("Value").fill(secret);
    await envForm.getByRole("button", { name: "Add" }).click();
    const envVar = page.getByTestId("env-item").filter({ hasText: "API_TOKEN" });
    await envVar.waitFor();
    // Loaded again from the server, in the tab the URL remembers.
    await page.reload();
    await envVar.waitFor();
    expect(await envVar.getAttribute("data-type")).toBe("secret");
    expect(await envVar.getByTestId("env-item-value").textContent()).toMatch(/^•+\S{0,4}$/);
    expect(await page.getByTestId("panel-env").textContent()).not.toContain(secret);
    await envVar.getByRole("button", { name: "Change API_TOKEN" }).click();
    expect(await envVar.getByLabel("New value").inputValue(), "a secret is never prefilled").toBe("");
    await snap(page, "11-env-secret");

    await waitForRunning(page, 90_000);
    await page.getByRole("tab", { name: "Files" }).click();
    const files = page.getByTestId("files");
    const fileEntry = (name: string) => files.locator(`[data-testid="file-entry"][data-name="${name}"]`);
    await fileEntry(".box-agent").waitFor();
    expect(await files.getByTestId("files-breadcrumb").textContent()).toBe("~");
    await files.getByRole("button", { name: "New file" }).click();
    const newFile = files.getByTestId("file-create-form");
    await newFile.getByLabel("Name").fill("notes/hello.md");
    await newFile.getByLabel("Content").fill("# Hello\nWritten from the dashboard.");
    await newFile.getByRole("button", { name: "Create file" }).click();
    await expect
      .poll(() => files.getByTestId("files-notice").textContent())
      .toBe("Created ~/notes/hello.md.");
    await fileEntry("notes").waitFor();
    await files.getByTestId("file-content").waitFor();
    await snap(page, "13-files-created");
    await files.getByRole("button", { name: "Close hello.md" }).click();

    await files.getByRole("button", { name: "Open folder notes" }).click();
    await expect
      .poll(() => files.getByTestId("files-breadcrumb").locator('[aria-current="location"]').textContent())
      .toBe("notes");
    await files.getByRole("button", { name: "Open file hello.md" }).click();
    const viewer = files.getByTestId("file-viewer");
    await expect
      .poll(() => viewer.getByTestId("file-content").textContent())
      .toBe("# Hello\nWritten from the dashboard.");
    expect(await viewer.getByTestId("file-path").textContent()).toBe("~/notes/hello.md");
    await viewer.getByRole("button", { name: "Edit hello.md" }).click();
    await viewer.getByLabel("Content of hello.md").fill("# Hello\nEdited in the browser.");
    await snap(page, "14-files-editing");
    await viewer.getByRole("button", { name: "Save" }).click();
    await viewer.getByTestId("file-saved").waitFor();
    await files.getByRole("button", { name: "Close hello.md" }).click();
    await files.getByRole("button", { name: "Open file hello.md" }).click();
    await expect
      .poll(() => viewer.getByTestId("file-content").textContent())
      .toBe("# Hello\nEdited in the browser.");
    expect(await viewer.getByTestId("file-size").textContent()).toBe("30 B");
    await snap(page, "15-files-edited");

    const apiKey = "sk-ant-test-0123456789abcdef";
    await page.getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(`${webUrl}/settings`);
    await page.getByTestId("credentials-empty").waitFor();
    const credentialForm = page.getByTestId("credential-form");
    await credentialForm.getByLabel("Name").fill("ANTHROPIC_API_KEY");
    await credentialForm.getByLabel("Value").fill(apiKey);
    await credentialForm.getByRole("button", { name: "Add credential" }).click();
    const credential = page.getByTestId("credential-item").filter({ hasText: "ANTHROPIC_API_KEY" });
    await credential.waitFor();
    expect(await credential.getByTestId("credential-item-value").textContent()).toMatch(/^•+\S{0,4}$/);
    expect(await page.getByTestId("credentials").textContent()).not.toContain(apiKey);
    expect(await credentialForm.getByLabel("Value").inputValue()).toBe("");
    await snap(page, "12-credentials");
    await page.context().close();
  }, 180_000);

  it("signs out, says when an email is taken or a password is wrong, and signs back in", async () => {
    const page = await openPage();
    const ownEmail = `bob-${randomBytes(4).toString("hex")}@example.com`;
    await signUp(page, "Bob Example", ownEmail, password);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.goto(`${webUrl}/boxes/box_unknown`);
    await page.waitForURL(/\/sign-in\?next=%2Fboxes%2Fbox_unknown$/);

    await page.goto(`${webUrl}/sign-up`);
    await page.getByLabel("Name").fill("Someone Else");
    await page.getByLabel("Email").fill(ownEmail);
    await page.getByLabel("Password").fill("another password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByTestId("auth-error").textContent()).toMatch(/already exists/);

    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL(/\/sign-in$/);
    await page.getByLabel("Email").fill(ownEmail);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByTestId("auth-error").textContent()).toBe("Wrong email or password.");
    await snap(page, "07-wrong-password");

    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${webUrl}/`);
    expect(await page.getByTestId("user-email").textContent()).toBe(ownEmail);
    await page.context().close();
  }, 60_000);
});
