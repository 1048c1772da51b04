import { randomBytes } from "node:crypto";
import { box } from "@vps-claude/db";
import { generateSubdomain, newId } from "@vps-claude/shared";
import type { Platform } from "@vps-claude/testing/platform";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserStack, startBrowserStack } from "./browser-harness";

/**
 * The browser terminal for real: Chromium on the box page's Access tab, through the dashboard's
 * own proxy (`next start`), the API's WebSocket, and a TTY exec in a sprites-local sandbox.
 */
let platform: Platform | undefined;
let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";

beforeAll(async () => {
  stack = await startBrowserStack({ label: "terminal_web", sprites: true });
  ({ platform, browser, webUrl } = stack);
}, 240_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

async function signedInPage(viewport: {
  width: number;
  height: number;
}): Promise<{ page: Page; userId: string }> {
  if (!browser) {
    throw new Error("the browser did not start");
  }
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill("Terry Terminal");
  await page.getByLabel("Email").fill(`terry-${randomBytes(4).toString("hex")}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
  const session = await page.request.get(`${webUrl}/api/auth/get-session`);
  return { page, userId: ((await session.json()) as { user: { id: string } }).user.id };
}

/** A running box of `userId` on a real sandbox (no deploy: the terminal needs the sprite only). */
async function runningBox(userId: string): Promise<string> {
  if (!platform) {
    throw new Error("the platform did not start");
  }
  const spriteName = `${platform.config.SPRITE_NAME_PREFIX}tty-${randomBytes(3).toString("hex")}`;
  await platform.deps.sprites.createOrGetSprite(spriteName);
  const id = newId("box");
  await platform.deps.db.insert(box).values({
    id,
    userId,
    name: "Terminal",
    subdomain: generateSubdomain("Terminal"),
    status: "running",
    spriteName,
  });
  return id;
}

async function openTerminal(page: Page, boxId: string) {
  await page.goto(`${webUrl}/boxes/${boxId}?tab=access`);
  const terminal = page.getByRole("region", { name: "Terminal" });
  await expect.poll(() => terminal.getByRole("status").textContent(), { timeout: 30_000 }).toBe("Connected");
  // xterm's DOM renderer: one element per screen row.
  return { terminal, rows: terminal.locator(".xterm-rows > div") };
}

describe("the box's browser terminal", () => {
  it("runs what is typed: `echo hi` prints hi", async () => {
    const { page, userId } = await signedInPage({ width: 1200, height: 900 });
    const { terminal, rows } = await openTerminal(page, await runningBox(userId));
    await terminal.locator(".xterm").click();
    await page.keyboard.type("echo hi");
    await page.keyboard.press("Enter");
    // The typed line reads "…$ echo hi"; the shell's answer is a row of its own.
    await expect
      .poll(async () => (await rows.allTextContents()).map((row) => row.trim()), { timeout: 30_000 })
      .toContain("hi");
  }, 120_000);

  it("says when the shell ended, and reconnects to a new one", async () => {
    const { page, userId } = await signedInPage({ width: 1200, height: 900 });
    const { terminal, rows } = await openTerminal(page, await runningBox(userId));
    await terminal.locator(".xterm").click();
    await page.keyboard.type("exit");
    await page.keyboard.press("Enter");
    const status = terminal.getByRole("status");
    await expect
      .poll(() => status.textContent(), { timeout: 30_000 })
      .toBe("Disconnected — the shell exited");
    await terminal.getByRole("button", { name: "Reconnect" }).click();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("Connected");
    await page.keyboard.type("echo again");
    await page.keyboard.press("Enter");
    await expect
      .poll(async () => (await rows.allTextContents()).map((row) => row.trim()), { timeout: 30_000 })
      .toContain("again");
  }, 120_000);

  it("fits a phone's width and tells the shell its size", async () => {
    const { page, userId } = await signedInPage({ width: 390, height: 844 });
    const { terminal, rows } = await openTerminal(page, await runningBox(userId));
    await terminal.locator(".xterm").click();
    await page.keyboard.type("stty size");
    await page.keyboard.press("Enter");
    await expect
      .poll(
        async () => {
          const size = (await rows.allTextContents())
            .map((row) => /^(\d+) (\d+)\s*$/.exec(row.trim()))
            .find(Boolean);
          return size ? Number(size[2]) : null;
        },
        { timeout: 30_000 },
      )
      .toBeLessThan(60);
  }, 120_000);
});
