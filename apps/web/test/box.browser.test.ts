import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserStack,
  checkA11y,
  expectNoHorizontalOverflow,
  startBrowserStack,
  VIEWPORTS,
} from "./browser-harness";

/**
 * The box page against a real platform: workers deploy into a real sprites-local sandbox, so the
 * files, access and network policy tabs talk to a running box-agent as they do under `npm start`.
 */

/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;

const TABS = [
  "Overview",
  "Chat",
  "Runs",
  "Email",
  "Cronjobs",
  "Files",
  "Env vars",
  "Agent config",
  "Access",
  "Settings",
] as const;

let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";

beforeAll(async () => {
  stack = await startBrowserStack({
    label: "box_web",
    sprites: true,
    workers: true,
  });
  ({ browser, webUrl } = stack);
}, 300_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

async function snap(page: Page, name: string): Promise<void> {
  if (screenshotDir) {
    await page.screenshot({ path: path.join(screenshotDir, `box-${name}.png`), fullPage: true });
  }
}

async function signUp(page: Page): Promise<void> {
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill("Bea Box");
  await page.getByLabel("Email").fill(`bea-${randomBytes(4).toString("hex")}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
}

/** Waits for the header's badge to settle; a failed deploy fails the test with the page's own explanation. */
async function waitForRunning(page: Page): Promise<void> {
  const badge = '[data-testid="box-detail"] [data-testid="box-status"]';
  await page.waitForFunction(
    (selector) =>
      ["running", "error"].includes(document.querySelector(selector)?.getAttribute("data-status") ?? ""),
    badge,
    { timeout: 120_000, polling: 500 },
  );
  if ((await page.locator(badge).getAttribute("data-status")) === "error") {
    throw new Error(`the box failed to deploy: ${await page.getByTestId("box-error").textContent()}`);
  }
}

async function openTab(page: Page, name: (typeof TABS)[number]): Promise<Locator> {
  const tab = page.getByRole("tab", { name, exact: true });
  await tab.click();
  await expect.poll(() => tab.getAttribute("aria-selected")).toBe("true");
  return page.getByRole("tabpanel", { name, exact: true });
}

/**
 * What a user of that width must get on every tab: no serious accessibility problem, nothing cut off.
 * Every tab is looked at, and what is wrong is returned, so one run names it all.
 */
async function problemsOnEveryTab(page: Page, width: string): Promise<string[]> {
  const problems: string[] = [];
  const note = (error: unknown) => problems.push(error instanceof Error ? error.message : String(error));
  for (const name of TABS) {
    await openTab(page, name);
    await checkA11y(page, `(${width}, tab ${name}) `).catch(note);
    await expectNoHorizontalOverflow(page).catch(note);
  }
  return problems;
}

async function createBox(page: Page, name: string): Promise<void> {
  await page.getByLabel("Box name").fill(name);
  await page.getByRole("button", { name: "Create box", exact: true }).click();
  const item = page.getByTestId("box-item").filter({ hasText: name });
  await item.waitFor();
  await item.getByTestId("box-name").click();
  await page.waitForURL(/\/boxes\/box_/);
}

/** Every step of the latest deploy is done, and its id. */
async function finishedDeploy(page: Page): Promise<string> {
  await waitForRunning(page);
  const timeline = page.getByTestId("deploy-timeline");
  const progress = timeline.getByTestId("deploy-progress");
  await expect.poll(() => progress.textContent()).toMatch(/^(\d+) of \1 steps done ·/);
  expect(await timeline.getByTestId("deploy-step").count()).toBeGreaterThan(3);
  const deployId = await progress.locator("code").textContent();
  expect(deployId).toMatch(/\S/);
  return deployId ?? "";
}

async function deployAndRedeploy(page: Page): Promise<void> {
  const first = await finishedDeploy(page);
  await snap(page, "deployed");
  await page.getByTestId("box-redeploy").click();
  await expect
    .poll(() => page.getByTestId("deploy-progress").locator("code").textContent(), { timeout: 30_000 })
    .not.toBe(first);
  await finishedDeploy(page);
}

async function tabsWorkByKeyboard(page: Page): Promise<void> {
  const overview = page.getByRole("tab", { name: "Overview" });
  await overview.focus();
  await page.keyboard.press("ArrowRight");
  await expect.poll(() => page.getByRole("tab", { name: "Chat" }).getAttribute("aria-selected")).toBe("true");
  expect(new URL(page.url()).searchParams.get("tab")).toBe("chat");
  await page.keyboard.press("End");
  await expect
    .poll(() => page.getByRole("tab", { name: "Settings" }).getAttribute("aria-selected"))
    .toBe("true");
  await page.keyboard.press("Home");
  await expect.poll(() => overview.getAttribute("aria-selected")).toBe("true");
  expect(new URL(page.url()).searchParams.has("tab")).toBe(false);
}

async function envVars(page: Page): Promise<void> {
  const panel = await openTab(page, "Env vars");
  const form = panel.getByTestId("env-create-form");
  const row = (key: string) => panel.locator(`[data-testid="env-item"][data-key="${key}"]`);

  await form.getByLabel("Key").fill("1BAD");
  await form.getByRole("button", { name: "Add" }).click();
  await expect
    .poll(() => form.getByTestId("env-key-error").textContent())
    .toMatch(/must start with a letter/);

  await form.getByLabel("Key").fill("GREETING");
  await form.getByLabel("Value").fill("hello");
  await form.getByRole("button", { name: "Add" }).click();
  await expect.poll(() => row("GREETING").getByTestId("env-item-value").textContent()).toBe("hello");

  await row("GREETING").getByRole("button", { name: "Change GREETING" }).click();
  const edit = row("GREETING").getByTestId("env-edit-form");
  await edit.getByLabel("Value").fill("hello world");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => row("GREETING").getByTestId("env-item-value").textContent()).toBe("hello world");

  const secret = `s3cret-${randomBytes(6).toString("hex")}`;
  await form.getByLabel("Key").fill("API_TOKEN");
  await form.getByLabel("Type").click();
  await page.getByRole("option", { name: "Secret" }).click();
  expect(await form.getByLabel("Value").getAttribute("type"), "a secret is typed blind").toBe("password");
  await form.getByLabel("Value").fill(secret);
  await form.getByRole("button", { name: "Add" }).click();
  await row("API_TOKEN").waitFor();
  expect(await row("API_TOKEN").getAttribute("data-type")).toBe("secret");
  expect(await row("API_TOKEN").getByTestId("env-item-value").textContent()).toMatch(/^•+\S{0,4}$/);
  expect(await panel.textContent()).not.toContain(secret);
  await row("API_TOKEN").getByRole("button", { name: "Change API_TOKEN" }).click();
  expect(await row("API_TOKEN").getByLabel("New value").inputValue(), "a secret is never prefilled").toBe("");
  await row("API_TOKEN").getByRole("button", { name: "Cancel" }).click();
  await snap(page, "env");

  await row("GREETING").getByRole("button", { name: "Delete GREETING" }).click();
  const dialog = page.getByRole("alertdialog");
  await dialog.getByRole("button", { name: "Delete variable" }).click();
  // While the dialog is open, the page behind it is hidden from the accessibility tree (and from role queries).
  await dialog.waitFor({ state: "detached" });
  await row("GREETING").waitFor({ state: "detached" });
  expect(await panel.getByTestId("env-item").count()).toBe(1);
}

async function agentConfig(page: Page): Promise<void> {
  const panel = await openTab(page, "Agent config");
  const chat = panel.getByTestId("agent-config-session");
  await chat.getByLabel("Max turns per run").fill("0");
  await chat.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => chat.getByText("maxTurns is at least 1").count()).toBe(1);

  await chat.getByLabel("Model").fill("claude-haiku-4-5");
  await chat.getByLabel("Max turns per run").fill("7");
  await chat.getByLabel("Max cost per run (USD)").fill("0.5");
  await chat.getByLabel("System prompt").fill("You are the control room's agent.");
  await chat.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => chat.getByTestId("agent-saved").textContent()).toBe("Saved. The next run uses it.");

  // Read back from the server, on the tab the URL remembers.
  await page.reload();
  const reloaded = page.getByTestId("agent-config-session");
  await expect.poll(() => reloaded.getByLabel("Model").inputValue()).toBe("claude-haiku-4-5");
  expect(await reloaded.getByLabel("Max turns per run").inputValue()).toBe("7");
  expect(await reloaded.getByLabel("Max cost per run (USD)").inputValue()).toBe("0.5");
  expect(await reloaded.getByLabel("System prompt").inputValue()).toBe("You are the control room's agent.");
  expect(await reloaded.getByTestId("agent-default-prompt").count()).toBe(0);
  await reloaded.getByRole("button", { name: "Reset prompt to default" }).click();
  await reloaded.getByTestId("agent-default-prompt").waitFor();
}

async function files(page: Page): Promise<void> {
  const panel = await openTab(page, "Files");
  const entry = (name: string) => panel.locator(`[data-testid="file-entry"][data-name="${name}"]`);
  await entry(".box-agent").waitFor();
  await panel.getByRole("button", { name: "New file" }).click();
  const form = panel.getByTestId("file-create-form");
  await form.getByLabel("Name").fill("notes/");
  await form.getByRole("button", { name: "Create file" }).click();
  await expect.poll(() => form.getByTestId("file-name-error").textContent()).toMatch(/ends with '\/'/);
  await form.getByLabel("Name").fill("notes/plan.md");
  await form.getByLabel("Content").fill("# Plan\nShip the box page.");
  await form.getByRole("button", { name: "Create file" }).click();
  await expect.poll(() => panel.getByTestId("files-notice").textContent()).toBe("Created ~/notes/plan.md.");
  const viewer = panel.getByTestId("file-viewer");
  await expect
    .poll(() => viewer.getByTestId("file-content").textContent())
    .toBe("# Plan\nShip the box page.");
  await viewer.getByRole("button", { name: "Close plan.md" }).click();

  await panel.getByRole("button", { name: "Open folder notes" }).click();
  await expect
    .poll(() => panel.getByTestId("files-breadcrumb").locator('[aria-current="location"]').textContent())
    .toBe("notes");
  await panel.getByRole("button", { name: "Open file plan.md" }).click();
  expect(await viewer.getByTestId("file-path").textContent()).toBe("~/notes/plan.md");
  await expect.poll(() => viewer.getByTestId("file-size").textContent()).toBe("25 B");
  await snap(page, "files");
  await panel.getByRole("button", { name: "Home folder (~)" }).click();
  await entry("notes").waitFor();
}

async function access(page: Page): Promise<void> {
  const panel = await openTab(page, "Access");
  const password = panel.getByTestId("access-password");
  await password.waitFor();
  expect(await password.getAttribute("data-revealed"), "hidden until asked").toBe("false");
  expect(await password.textContent()).toMatch(/^•+hidden$/);
  await panel.getByRole("button", { name: "Reveal" }).click();
  await expect.poll(() => password.getAttribute("data-revealed")).toBe("true");
  expect(await password.textContent()).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  await panel.getByRole("button", { name: "Hide" }).click();
  await expect.poll(() => password.getAttribute("data-revealed")).toBe("false");
  // The terminal is only offered for a running box.
  expect(await panel.getByTestId("terminal-unavailable").count()).toBe(0);
}

async function boxSettings(page: Page): Promise<void> {
  const panel = await openTab(page, "Settings");
  const policy = panel.getByTestId("network-policy-form");
  await policy.getByRole("radio", { name: "Only these domains" }).click();
  await policy.getByRole("button", { name: "Add domain" }).click();
  await policy.getByLabel("Domain 1", { exact: true }).fill("API.GitHub.com");
  await policy.getByRole("button", { name: "Add domain" }).click();
  await policy.getByLabel("Domain 2", { exact: true }).fill("https://bad.example/path");
  await policy.getByRole("button", { name: "Save network policy" }).click();
  const entries = policy.getByTestId("network-domain");
  await expect
    .poll(() => entries.nth(1).getByTestId("network-domain-error").textContent())
    .toMatch(/has a scheme: give the host name only/);
  expect(
    await entries.nth(0).getByTestId("network-domain-error").count(),
    "the good entry has no error",
  ).toBe(0);
  await policy.getByLabel("Domain 2", { exact: true }).fill("*.example.org");
  await policy.getByRole("button", { name: "Save network policy" }).click();
  await expect.poll(() => policy.getByTestId("network-policy-saved").textContent()).toBe("Saved.");
  // The server's normalized form comes back into the form.
  await expect
    .poll(() => policy.getByLabel("Domain 1", { exact: true }).inputValue(), { timeout: 10_000 })
    .toBe("api.github.com");

  const budget = panel.getByTestId("box-budget-form");
  await budget.getByLabel("Monthly cap (US dollars)").fill("lots");
  await budget.getByRole("button", { name: "Save budget" }).click();
  await expect.poll(() => budget.getByTestId("box-budget-error").textContent()).toMatch(/is not an amount/);
  await budget.getByLabel("Monthly cap (US dollars)").fill("12.50");
  await budget.getByRole("button", { name: "Save budget" }).click();
  await expect.poll(() => budget.getByTestId("box-budget-saved").textContent()).toBe("Saved.");
  await expect.poll(() => budget.getByTestId("box-budget-spent").textContent()).toMatch(/of \$12\.50$/);
  await snap(page, "settings");

  await page.reload();
  const reloaded = page.getByTestId("network-policy-form");
  await expect
    .poll(() => reloaded.getByRole("radio", { name: "Only these domains" }).getAttribute("aria-checked"))
    .toBe("true");
  expect(
    await reloaded
      .getByTestId("network-domain-input")
      .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value)),
  ).toEqual(["api.github.com", "*.example.org"]);
  expect(await page.getByLabel("Monthly cap (US dollars)").inputValue()).toBe("12.50");
}

async function deleteBox(page: Page, name: string): Promise<void> {
  await page.getByTestId("box-delete").click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete box" }).click();
  await page.waitForURL(`${webUrl}/`);
  await page
    .getByTestId("box-item")
    .filter({ hasText: name })
    .waitFor({ state: "detached", timeout: 90_000 });
}

describe("the box page in a browser", () => {
  for (const { name: width, viewport } of VIEWPORTS) {
    it(`deploys a box and works every tab at ${width} width`, async () => {
      if (!browser) {
        throw new Error("the browser did not start");
      }
      const page = await (await browser.newContext({ viewport })).newPage();
      await signUp(page);
      const boxName = `Control room ${width}`;
      await createBox(page, boxName);
      await deployAndRedeploy(page);
      await tabsWorkByKeyboard(page);
      await envVars(page);
      await agentConfig(page);
      await files(page);
      await access(page);
      await boxSettings(page);
      const problems = await problemsOnEveryTab(page, width);
      await deleteBox(page, boxName);
      expect(problems, problems.join("\n\n")).toEqual([]);
      await page.context().close();
    }, 420_000);
  }
});
