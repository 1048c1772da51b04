import { randomBytes } from "node:crypto";
import path from "node:path";
import { boxRun } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import {
  type AnthropicConversation,
  anthropicReply,
  type FakeAnthropic,
  scriptedClaude,
  startFakeAnthropic,
} from "@vps-claude/testing";
import { type Platform, waitFor } from "@vps-claude/testing/platform";
import type { APIRequestContext, Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserStack,
  checkA11y,
  expectNoHorizontalOverflow,
  startBrowserStack,
  VIEWPORTS,
} from "./browser-harness";

/**
 * Runs in the dashboard, end to end: a real box on sprites-local running the real Claude CLI against
 * a fake Messages API. A prompt "SLOW <tag>" makes Claude say "Looking (<tag>)" and call a tool, then
 * holds the model's next turn until the test releases the tag: "while the run works" is a state the
 * test holds, not a race against a clock. "FLAKY <tag>" fails every model request (the run ends
 * `failed`) until the test heals the tag; then the retry is answered.
 */

const TOOL = "mcp__box-agent__cronjob_list";
const RUN_TEST_TIMEOUT_MS = 240_000;
/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Per tag: `reached` once the held model turn was asked for, `release` lets it answer. */
const gates = new Map<string, { reached: Deferred; release: Deferred }>();
function gate(tag: string) {
  let found = gates.get(tag);
  if (!found) {
    found = { reached: deferred(), release: deferred() };
    gates.set(tag, found);
  }
  return found;
}

const SLOW = /\bSLOW (\w+)/;
const FLAKY = /\bFLAKY (\w+)/;
const healed = new Set<string>();

const script = scriptedClaude({
  rules: [
    {
      when: SLOW,
      reply: ({ match }) => ({ text: `Looking (${match?.[1]})`, toolUses: [{ name: TOOL, input: {} }] }),
    },
  ],
  afterTools: (_results, conversation) => `Finished ${SLOW.exec(conversation.lastUserText() ?? "")?.[1]}`,
});

async function respond(conversation: AnthropicConversation) {
  const prompt = conversation.lastUserText() ?? "";
  const flaky = FLAKY.exec(prompt)?.[1];
  if (flaky && !healed.has(flaky)) {
    return anthropicReply.error(400, "the fake model refuses this for now");
  }
  const slow = SLOW.exec(prompt)?.[1];
  if (slow && conversation.hasPendingToolResults()) {
    const held = gate(slow);
    held.reached.resolve();
    await held.release.promise;
  }
  return script(conversation);
}

let fake: FakeAnthropic | undefined;
let platform: Platform | undefined;
let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";
let signedIn: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined;
let boxId = "";

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond });
  stack = await startBrowserStack({
    label: "runs_web",
    sprites: true,
    workers: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "600000" },
  });
  ({ platform, browser, webUrl } = stack);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel("Name").fill("Rita Runs");
  await page.getByLabel("Email").fill(`rita-${randomBytes(4).toString("hex")}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${webUrl}/`);
  signedIn = await context.storageState();
  const created = await postJson<{ id: string }>(page.request, "/rpc/box", { name: "Run desk" });
  boxId = created.id;
  const ready = await waitFor(
    () => getJson<{ status: string; errorMessage: string | null }>(page.request, `/rpc/box/${boxId}`),
    (box) => box.status === "running" || box.status === "error",
    { timeout: 150_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`the box did not deploy: ${ready.errorMessage}`);
  }
  const session = await getJson<{ user: { id: string } }>(page.request, "/api/auth/get-session");
  await seedRuns(session.user.id);
  await context.close();
}, 400_000);

/** A held model turn would keep the box's run slot busy for every later test: none outlives its test. */
function releaseAllGates(): void {
  for (const { release } of gates.values()) {
    release.resolve();
  }
}

afterEach(releaseAllGates);

afterAll(async () => {
  releaseAllGates();
  await stack?.close();
  await fake?.close();
}, 60_000);

/** The API as the page sees it: through the dashboard's proxy, with the browser's cookie. */
async function getJson<T>(request: APIRequestContext, pathname: string): Promise<T> {
  const response = await request.get(`${webUrl}${pathname}`);
  const text = await response.text();
  expect(response.status(), `${pathname}: ${text}`).toBe(200);
  return JSON.parse(text) as T;
}

async function postJson<T>(request: APIRequestContext, pathname: string, body: unknown): Promise<T> {
  // The API refuses a cookie-authenticated POST from elsewhere; the page's own requests carry its Origin.
  const response = await request.post(`${webUrl}${pathname}`, { data: body, headers: { origin: webUrl } });
  const text = await response.text();
  expect(response.status(), `${pathname}: ${text}`).toBeLessThan(300);
  return JSON.parse(text) as T;
}

const SEEDED = { email: 14, cron: 14 };

/** Finished email and cron runs as rows (older than anything the tests start): enough for two pages. */
async function seedRuns(userId: string): Promise<void> {
  if (!platform) {
    throw new Error("the platform did not start");
  }
  const statuses = ["completed", "failed"] as const;
  const rows = (["email", "cron"] as const).flatMap((trigger) =>
    Array.from({ length: SEEDED[trigger] }, (_, index) => {
      const id = newId("run");
      const createdAt = new Date(Date.now() - (index + 1) * 3_600_000);
      return {
        id,
        boxId,
        userId,
        trigger,
        contextType: trigger,
        contextId: `${trigger}-${index}`,
        status: statuses[index % 2] ?? "completed",
        prompt: `seeded ${trigger} run ${index}`,
        dispatch: { runId: id },
        maxDurationMs: 60_000,
        createdAt,
        startedAt: createdAt,
        completedAt: new Date(createdAt.getTime() + 4_200),
        durationMs: 4_200,
        inputTokens: 1200,
        outputTokens: 340,
        costUsd: 0.0125,
      };
    }),
  );
  await platform.deps.db.insert(boxRun).values(rows);
}

async function openPage(viewport: { width: number; height: number }): Promise<Page> {
  if (!browser || !signedIn) {
    throw new Error("the browser did not start, or the sign-up failed");
  }
  const context = await browser.newContext({ viewport, storageState: signedIn });
  return context.newPage();
}

async function snap(page: Page, name: string): Promise<void> {
  if (screenshotDir) {
    await page.screenshot({ path: path.join(screenshotDir, `runs-${name}.png`), fullPage: true });
  }
}

/**
 * Waits for the page's finite animations (a dialog fading in, a menu closing) to end: axe judges
 * contrast and hidden content on what is painted, not on a frame half-way through a fade.
 */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getTiming().iterations !== Number.POSITIVE_INFINITY)
        .map((animation) => animation.finished.catch(() => undefined)),
    ),
  );
}

/** Picks an option of one of the panel's filters (a Radix select) and waits until its list is gone. */
async function pickFilter(page: Page, label: string, option: string): Promise<void> {
  await page.getByTestId("runs-panel").getByLabel(label).click();
  await page.getByRole("option", { name: option }).click();
  await page.getByRole("listbox").waitFor({ state: "detached" });
}

/** Every page of the run pages and tabs: no serious axe violation, nothing sideways at phone width. */
async function checkPage(page: Page, name: string): Promise<void> {
  await settle(page);
  await checkA11y(page, `(${name}) `);
  await expectNoHorizontalOverflow(page);
  await snap(page, name);
}

const runPage = (runId: string) => `${webUrl}/boxes/${boxId}/runs/${runId}`;

for (const { name: width, viewport } of VIEWPORTS) {
  describe(`runs in the dashboard (${width})`, () => {
    it(
      "chat shows Claude's first words while the run still works, continues the context, and Stop cancels",
      async () => {
        const page = await openPage(viewport);
        const tag = `chat${width}`;
        await page.goto(`${webUrl}/boxes/${boxId}?tab=chat`);
        const chat = page.getByTestId("chat");
        await chat.getByRole("button", { name: "+ New conversation" }).click();
        await chat.getByLabel("Message", { exact: true }).fill(`SLOW ${tag}: what cronjobs do I have?`);
        await chat.getByRole("button", { name: "Send" }).click();

        const run = chat.getByTestId("chat-run").last();
        await run
          .getByTestId("transcript-text")
          .filter({ hasText: `Looking (${tag})` })
          .waitFor();
        await gate(tag).reached.promise;
        // The model's next turn is held: whatever the page shows now, it shows before the run ended.
        expect(await run.getAttribute("data-status")).toBe("running");
        expect(await run.getByTestId("transcript-tool-name").textContent()).toBe(TOOL);
        await chat.getByTestId("chat-pending").waitFor();
        expect(await chat.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
        await checkPage(page, `chat-live-${width}`);

        gate(tag).release.resolve();
        await run
          .getByTestId("transcript-text")
          .filter({ hasText: `Finished ${tag}` })
          .waitFor();
        await expect.poll(() => run.getAttribute("data-status")).toBe("completed");
        const firstRunId = String(await run.getAttribute("data-run-id"));

        // The same conversation goes on: the next message runs in the same context.
        await chat.getByLabel("Message", { exact: true }).fill("and what else?");
        await chat.getByRole("button", { name: "Send" }).click();
        const second = chat.locator(`[data-testid="chat-run"]:not([data-run-id="${firstRunId}"])`).last();
        await second.getByTestId("transcript-text").filter({ hasText: "You said: and what else?" }).waitFor();
        const secondRunId = String(await second.getAttribute("data-run-id"));
        const [first, next] = await Promise.all(
          [firstRunId, secondRunId].map((id) =>
            getJson<{ contextId: string }>(page.request, `/rpc/box/${boxId}/runs/${id}`),
          ),
        );
        expect(next?.contextId).toBe(first?.contextId);

        const stopTag = `stop${width}`;
        await chat.getByLabel("Message", { exact: true }).fill(`SLOW ${stopTag}: take your time`);
        await chat.getByRole("button", { name: "Send" }).click();
        await gate(stopTag).reached.promise;
        const stopped = chat.getByTestId("chat-run").last();
        await stopped
          .getByTestId("transcript-text")
          .filter({ hasText: `Looking (${stopTag})` })
          .waitFor();
        await chat.getByRole("button", { name: "Stop" }).click();
        await expect.poll(() => stopped.getAttribute("data-status"), { timeout: 60_000 }).toBe("cancelled");
        expect(await chat.getByRole("button", { name: "Send" }).isDisabled()).toBe(false);
        gate(stopTag).release.resolve();
        await page.context().close();
      },
      RUN_TEST_TIMEOUT_MS,
    );

    it(
      "lists the box's runs with trigger and status filters, pages on, and opens a run",
      async () => {
        const page = await openPage(viewport);
        await page.goto(`${webUrl}/boxes/${boxId}?tab=runs`);
        const panel = page.getByTestId("runs-panel");
        const rows = panel.getByTestId("run-row");
        await rows.first().waitFor();
        expect(await rows.count()).toBe(25);
        await checkPage(page, `runs-list-${width}`);
        await panel.getByRole("button", { name: "Load more" }).click();
        await expect.poll(() => rows.count()).toBeGreaterThan(25);

        await pickFilter(page, "Trigger", "Email");
        await expect.poll(() => rows.count()).toBe(SEEDED.email);
        expect(new Set(await rows.evaluateAll((all) => all.map((row) => row.dataset.trigger)))).toEqual(
          new Set(["email"]),
        );
        expect(await panel.getByRole("button", { name: "Load more" }).count()).toBe(0);

        await pickFilter(page, "Status", "Failed");
        await expect.poll(() => rows.count()).toBe(SEEDED.email / 2);
        expect(new Set(await rows.evaluateAll((all) => all.map((row) => row.dataset.status)))).toEqual(
          new Set(["failed"]),
        );
        const row = rows.first();
        expect(await row.textContent()).toContain("$0.0125");
        expect(await row.textContent()).toContain("4.2 s");
        await checkPage(page, `runs-filtered-${width}`);

        const runId = String(await row.getAttribute("data-run-id"));
        await row.getByTestId("run-link").click();
        await page.waitForURL(runPage(runId));
        const runView = page.getByTestId("run-page");
        await expect.poll(() => runView.getByTestId("run-status").getAttribute("data-status")).toBe("failed");
        expect(await runView.getByTestId("run-prompt").textContent()).toMatch(/^seeded email run \d+$/);
        expect(await runView.getByTestId("run-origin").count()).toBe(0);
        await runView.getByTestId("run-back").click();
        await page.waitForURL(`${webUrl}/boxes/${boxId}?tab=runs`);
        await page.context().close();
      },
      RUN_TEST_TIMEOUT_MS,
    );

    it(
      "a run page streams a slow run as it works, and Cancel ends it cancelled",
      async () => {
        const page = await openPage(viewport);
        const tag = `page${width}`;
        const { runId } = await postJson<{ runId: string }>(page.request, `/rpc/box/${boxId}/runs`, {
          message: `SLOW ${tag}: look around`,
        });
        await page.goto(runPage(runId));
        const view = page.getByTestId("run-page");
        await view
          .getByTestId("transcript-text")
          .filter({ hasText: `Looking (${tag})` })
          .waitFor();
        await view.getByTestId("transcript-tool-result").waitFor();
        await gate(tag).reached.promise;
        expect(await view.getByTestId("run-status").getAttribute("data-status")).toBe("running");
        expect(await view.getByTestId("transcript-tool-name").textContent()).toBe(TOOL);
        expect(await view.getByTestId("run-prompt").textContent()).toBe(`SLOW ${tag}: look around`);
        expect(await view.getByTestId("run-status-text").textContent()).toMatch(/Claude is working/);
        await checkPage(page, `run-live-${width}`);

        await view.getByRole("button", { name: "Cancel run" }).click();
        const dialog = page.getByTestId("confirm-dialog");
        await dialog.waitFor();
        await settle(page);
        await checkA11y(page, `(cancel dialog ${width}) `);
        await dialog.getByRole("button", { name: "Yes, cancel the run" }).click();
        await expect
          .poll(() => view.getByTestId("run-status").getAttribute("data-status"), { timeout: 60_000 })
          .toBe("cancelled");
        await expect.poll(() => view.getByTestId("run-status-text").textContent()).toMatch(/cancelled/);
        expect(await view.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
        await view.getByRole("button", { name: "Retry" }).waitFor();
        gate(tag).release.resolve();
        await page.context().close();
      },
      RUN_TEST_TIMEOUT_MS,
    );

    it(
      "a failed run shows why, and Retry starts it again and follows the new run",
      async () => {
        const page = await openPage(viewport);
        const tag = `flaky${width}`;
        const { runId } = await postJson<{ runId: string }>(page.request, `/rpc/box/${boxId}/runs`, {
          message: `FLAKY ${tag}`,
        });
        await page.goto(runPage(runId));
        const view = page.getByTestId("run-page");
        await expect
          .poll(() => view.getByTestId("run-status").getAttribute("data-status"), { timeout: 120_000 })
          .toBe("failed");
        await expect.poll(() => view.textContent()).toContain("the fake model refuses this for now");
        await checkPage(page, `run-failed-${width}`);

        healed.add(tag);
        await view.getByRole("button", { name: "Retry" }).click();
        await page.waitForURL((url) => url.pathname.includes("/runs/") && !url.pathname.endsWith(runId));
        const retried = page.getByTestId("run-page");
        await expect.poll(() => retried.getByTestId("run-retry-of").textContent()).toBe(runId);
        await retried
          .getByTestId("transcript-text")
          .filter({ hasText: `You said: FLAKY ${tag}` })
          .waitFor();
        await expect
          .poll(() => retried.getByTestId("run-status").getAttribute("data-status"), { timeout: 60_000 })
          .toBe("completed");
        await expect.poll(() => retried.getByTestId("run-cost").textContent()).toMatch(/^\$\d/);
        await page.context().close();
      },
      RUN_TEST_TIMEOUT_MS,
    );
  });
}
