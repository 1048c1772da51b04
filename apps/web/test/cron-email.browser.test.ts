import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { anthropicReply, type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { type Platform, TestClient, waitFor } from "@vps-claude/testing/platform";
import nodemailer, { type SendMailOptions } from "nodemailer";
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
 * The box page's Cronjobs and Email tabs on the real stack: a box deployed into sprites-local, the
 * workers, the real Claude CLI in the box against a fake Messages API, mail in through the SMTP
 * listener with SPF/DMARC checked against a fake DNS. Each flow runs at desktop and at phone width.
 */

/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;
const RUN_TIMEOUT_MS = 150_000;

/** A prompt carrying one of these markers is refused by the model, so its run fails (until the test lifts it). */
const refusedMarkers = new Set<string>();

let fake: FakeAnthropic;
let platform: Platform | undefined;
let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";
let owner: TestClient;
let boxId = "";
let boxAddress = "";

beforeAll(async () => {
  fake = await startFakeAnthropic({
    respond: (conversation) => {
      const prompt = conversation.lastUserText() ?? "";
      const refused = [...refusedMarkers].some((marker) => prompt.includes(marker));
      if (refused && conversation.pendingToolResults().length === 0) {
        return anthropicReply.error(400, "the fake model refuses this email");
      }
      return "Done; nothing else to do.";
    },
  });
  stack = await startBrowserStack({
    label: "cron_email_web",
    workers: true,
    sprites: true,
    smtp: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test-platform-key" },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "60000" },
  });
  ({ platform, browser, webUrl } = stack);
  // verified.example sends from this machine and publishes DMARC: its mail proves where it came from.
  platform.dns?.addTxt("verified.example", "v=spf1 ip4:127.0.0.1 -all");
  platform.dns?.addTxt("_dmarc.verified.example", "v=DMARC1; p=reject");

  owner = new TestClient(platform);
  await owner.signUp();
  const created = await owner.post("/rpc/box", { name: "Cron and mail" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  boxAddress = String(created.body.email);
  const status = await waitFor(
    async () => String((await owner.get(`/rpc/box/${boxId}`)).body.status),
    (value) => value === "running" || value === "error",
    { timeout: 180_000, interval: 500, what: "the box to deploy" },
  );
  expect(status).toBe("running");
}, 300_000);

afterAll(async () => {
  await stack?.close();
  await fake?.close();
}, 60_000);

async function snap(page: Page, name: string): Promise<void> {
  if (screenshotDir) {
    await page.screenshot({ path: path.join(screenshotDir, `cron-email-${name}.png`), fullPage: true });
  }
}

/** The owner's session (signed up against the API) in a fresh browser context of the given size. */
async function openOwnerPage(viewport: { width: number; height: number }): Promise<Page> {
  if (!browser) {
    throw new Error("the browser did not start");
  }
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  await context.addCookies(
    owner.cookieHeader.split("; ").map((pair) => {
      const index = pair.indexOf("=");
      return { name: pair.slice(0, index), value: pair.slice(index + 1), url: webUrl };
    }),
  );
  return context.newPage();
}

async function openTab(page: Page, tab: "Cronjobs" | "Email"): Promise<void> {
  await page.goto(`${webUrl}/boxes/${boxId}`);
  await page.getByRole("tab", { name: tab }).click();
}

/** Picks an option of a kit (Radix) select by the trigger's label. */
async function choose(scope: Locator, page: Page, label: string, option: string): Promise<void> {
  await scope.getByLabel(label).click();
  await page.getByRole("option", { name: option }).click();
}

/** The page passes axe and does not scroll sideways, at whatever width it has. */
async function checkPage(page: Page, step: string): Promise<void> {
  await checkA11y(page, `(${step}) `);
  await expectNoHorizontalOverflow(page);
}

async function sendMail(message: SendMailOptions): Promise<void> {
  const sent = await nodemailer
    .createTransport({ host: "127.0.0.1", port: Number(platform?.smtpPort), secure: false, ignoreTLS: true })
    .sendMail(message);
  expect(sent.accepted).toEqual([boxAddress]);
}

describe.each(VIEWPORTS)("cronjobs and email at $name width", ({ name, viewport }) => {
  it("creates a cronjob (a bad expression is refused under the field), edits, pauses, runs it now and lists its run", async () => {
    const page = await openOwnerPage(viewport);
    await openTab(page, "Cronjobs");
    const panel = page.getByTestId("cronjobs");
    const form = panel.getByTestId("cronjob-create-form");
    await form.getByLabel("Name").fill(`Digest ${name}`);
    await form.getByLabel("Schedule").fill("61 * * * *");
    await form.getByLabel("Timezone").fill("Europe/Berlin");
    await form.getByLabel("Prompt").fill(`Summarise the inbox (${name}).`);
    await choose(form, page, "While the previous run works", "Queue it after the previous run");
    await choose(form, page, "Conversation", "Continue one conversation");
    await form.getByLabel("Model").fill("claude-sonnet-4-5");
    await form.getByLabel("Time limit (minutes)").fill("5");
    await form.getByRole("button", { name: "Add cronjob" }).click();
    await expect
      .poll(() => form.getByTestId("cronjob-schedule-error").textContent())
      .toBe("cron expression '61 * * * *': minute must be 0–59, got 61");
    expect(await form.getByLabel("Schedule").getAttribute("aria-invalid")).toBe("true");
    await snap(page, `${name}-01-bad-schedule`);
    await checkPage(page, "a refused schedule");

    // Next fire on 1 January: nothing fires by itself during the test, its runs come from "run now".
    await form.getByLabel("Schedule").fill("0 0 1 1 *");
    await form.getByRole("button", { name: "Add cronjob" }).click();
    const item = panel.getByTestId("cronjob-item").filter({ hasText: `Digest ${name}` });
    await item.waitFor();
    expect(await form.getByLabel("Name").inputValue(), "the form is ready for the next one").toBe("");
    expect(await item.getByTestId("cronjob-schedule-text").textContent()).toBe("0 0 1 1 *");
    expect(await item.textContent()).toContain("Europe/Berlin");
    expect(await item.getByTestId("cronjob-settings-text").textContent()).toBe(
      "continues one conversation · queues a tick while a run still works · model claude-sonnet-4-5 · stops a run after 5 min",
    );
    expect(await item.getByTestId("cronjob-next-runs").textContent()).toMatch(/^next run /);

    await item.getByRole("button", { name: `Edit Digest ${name}` }).click();
    const edit = item.getByTestId("cronjob-edit-form");
    expect(await edit.getByLabel("Timezone").inputValue()).toBe("Europe/Berlin");
    await edit.getByLabel("Name").fill(`Morning digest ${name}`);
    await edit.getByLabel("Schedule").fill("30 6 1 1 *");
    await edit.getByLabel("Model").fill("");
    await snap(page, `${name}-02-editing`);
    await edit.getByRole("button", { name: "Save changes" }).click();
    const edited = panel.getByTestId("cronjob-item").filter({ hasText: `Morning digest ${name}` });
    await edit.waitFor({ state: "detached" });
    expect(await edited.getByTestId("cronjob-schedule-text").textContent()).toBe("30 6 1 1 *");
    expect(await edited.getByTestId("cronjob-settings-text").textContent()).not.toContain("model");

    await edited.getByRole("switch", { name: `Enabled: Morning digest ${name}` }).click();
    await expect.poll(() => edited.getAttribute("data-enabled")).toBe("false");
    expect(await edited.getByTestId("cronjob-next-runs").textContent()).toBe("no upcoming runs while paused");
    await edited.getByRole("switch").click();
    await expect.poll(() => edited.getAttribute("data-enabled")).toBe("true");

    await edited.getByRole("button", { name: `Run now: Morning digest ${name}` }).click();
    const execution = edited.getByTestId("cronjob-execution").first();
    await execution.waitFor({ timeout: 30_000 });
    // The list polls while the run works and stops once it ended.
    await expect
      .poll(() => execution.getAttribute("data-status"), { timeout: RUN_TIMEOUT_MS, interval: 500 })
      .toMatch(/^(completed|failed|skipped)$/);
    expect(await execution.getAttribute("data-status"), String(await execution.textContent())).toBe(
      "completed",
    );
    expect(await execution.getByTestId("cronjob-execution-cost").textContent()).toMatch(/^\$\d/);
    const runLink = execution.getByTestId("cronjob-execution-run-link");
    expect(await runLink.getAttribute("href")).toMatch(new RegExp(`^/boxes/${boxId}/runs/run_[0-9a-z]+$`));
    expect(await execution.textContent()).toContain("Done; nothing else to do.");
    await snap(page, `${name}-03-executed`);
    await checkPage(page, "a cronjob with its run");

    // The URL names the cronjob whose runs are open, and the run's page links back to exactly it.
    const cronjobId = String(await edited.getAttribute("data-cronjob-id"));
    await expect.poll(() => new URL(page.url()).searchParams.get("cronjob")).toBe(cronjobId);
    const runHref = await viaRunPageBackTo(
      page,
      runLink,
      `/boxes/${boxId}?tab=cronjobs&cronjob=${cronjobId}`,
    );
    const linked = panel.locator(`[data-testid="cronjob-item"][data-cronjob-id="${cronjobId}"]`);
    expect(await linked.getAttribute("data-selected")).toBe("true");
    expect(await linked.getByTestId("cronjob-runs-toggle").getAttribute("aria-expanded")).toBe("true");
    const linkedRun = linked.getByTestId("cronjob-execution").filter({
      has: page.locator(`[data-testid="cronjob-execution-run-link"][href="${runHref}"]`),
    });
    await linkedRun.waitFor();
    expect(await linkedRun.getAttribute("data-status")).toBe("completed");
    const { top, height } = await linked.evaluate((item) => ({
      top: item.getBoundingClientRect().top,
      height: window.innerHeight,
    }));
    expect(top, "the page is scrolled to the linked cronjob").toBeGreaterThan(-1);
    expect(top, "the page is scrolled to the linked cronjob").toBeLessThan(height);
    await snap(page, `${name}-03b-linked-from-run`);
    await checkPage(page, "a cronjob opened from its run");
    await linked.getByTestId("cronjob-runs-toggle").click();
    await expect.poll(() => new URL(page.url()).searchParams.get("cronjob")).toBe(null);

    await edited.getByRole("button", { name: `Delete Morning digest ${name}` }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    await checkA11y(page, "(the delete dialog) ");
    await dialog.getByRole("button", { name: "Delete cronjob" }).click();
    await edited.waitFor({ state: "detached" });
    await page.context().close();
  }, 240_000);

  it("lists email, shows the sender verdict, downloads an attachment, retries a failed one and saves sender rules", async () => {
    const tag = `${name}-${randomBytes(3).toString("hex")}`;
    const refusal = `REFUSE-${tag}`;
    refusedMarkers.add(refusal);
    const report = randomBytes(48_000);
    await sendMail({
      from: "Alice <alice@verified.example>",
      to: boxAddress,
      subject: `Report ${tag}`,
      text: "The numbers are attached.",
      html: "<p>The numbers are <b>attached</b>.</p>",
      attachments: [{ filename: `report ${tag}.bin`, content: report, contentType: "application/x-report" }],
    });
    await sendMail({
      from: "mallory@unverified.example",
      to: boxAddress,
      subject: `Broken ${tag}`,
      text: `Please look at this. ${refusal}`,
    });

    const page = await openOwnerPage(viewport);
    await openTab(page, "Email");
    const list = page.getByTestId("emails");
    const reportRow = list.getByTestId("email-item").filter({ hasText: `Report ${tag}` });
    const brokenRow = list.getByTestId("email-item").filter({ hasText: `Broken ${tag}` });
    // The list follows both while they are delivered and answered.
    await expect
      .poll(() => reportRow.getByTestId("email-status").getAttribute("data-status"), {
        timeout: RUN_TIMEOUT_MS,
        interval: 500,
      })
      .toBe("processed");
    await expect
      .poll(() => brokenRow.getByTestId("email-status").getAttribute("data-status"), {
        timeout: RUN_TIMEOUT_MS,
        interval: 500,
      })
      .toBe("failed");
    await snap(page, `${name}-04-email-list`);
    await checkPage(page, "the email list");

    const reportId = String(await reportRow.getAttribute("data-email-id"));
    await reportRow.click();
    const detail = page.getByTestId("email-detail");
    await detail.getByTestId("email-detail-subject").waitFor();
    const verdict = detail.getByTestId("email-authentication");
    expect(await verdict.getAttribute("data-authenticated")).toBe("true");
    expect(await verdict.getByTestId("email-authentication-summary").textContent()).toBe(
      "Sent by verified.example",
    );
    expect(await verdict.getByTestId("email-check-dmarc").getAttribute("data-result")).toBe("pass");
    expect(await verdict.getByTestId("email-check-spf").getAttribute("data-result")).toBe("pass");
    expect(await detail.getByTestId("email-run-link").getAttribute("href")).toMatch(
      new RegExp(`^/boxes/${boxId}/runs/run_[0-9a-z]+$`),
    );

    const attachment = detail.getByTestId("email-attachment-download");
    const [download] = await Promise.all([page.waitForEvent("download"), attachment.click()]);
    expect(download.suggestedFilename()).toBe(`report ${tag}.bin`);
    expect(
      (await readFile(await download.path())).equals(report),
      "the downloaded bytes are the sent ones",
    ).toBe(true);
    // Through the dashboard's proxy, the API's download headers arrive unchanged.
    const href = String(await attachment.getAttribute("href"));
    const proxied = await page.request.get(`${webUrl}${href}`);
    expect(proxied.status()).toBe(200);
    expect(Buffer.from(await proxied.body()).equals(report)).toBe(true);
    expect(proxied.headers()["content-type"]).toBe("application/octet-stream");
    expect(proxied.headers()["content-disposition"]).toBe(
      `attachment; filename="report ${tag}.bin"; filename*=UTF-8''report%20${tag}.bin`,
    );
    expect(proxied.headers()["x-content-type-options"]).toBe("nosniff");

    await detail.getByRole("tab", { name: "HTML" }).click();
    await detail.getByTestId("email-html").waitFor();
    await snap(page, `${name}-05-email-detail`);
    await checkPage(page, "an authenticated email");

    // The URL names the open email, and the run that answered it links back to exactly it.
    expect(new URL(page.url()).searchParams.get("email")).toBe(reportId);
    const emailRunLink = detail.getByTestId("email-run-link");
    const emailRunHref = await viaRunPageBackTo(
      page,
      emailRunLink,
      `/boxes/${boxId}?tab=email&email=${reportId}`,
    );
    await detail
      .getByTestId("email-detail-subject")
      .filter({ hasText: `Report ${tag}` })
      .waitFor();
    expect(await verdict.getByTestId("email-authentication-summary").textContent()).toBe(
      "Sent by verified.example",
    );
    expect(await detail.getByTestId("email-run-link").getAttribute("href")).toBe(emailRunHref);
    await snap(page, `${name}-05b-email-linked-from-run`);
    await checkPage(page, "an email opened from its run");
    await detail.getByRole("button", { name: "All email" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("email")).toBe(null);
    expect(new URL(page.url()).searchParams.get("tab")).toBe("email");

    const brokenId = String(await brokenRow.getAttribute("data-email-id"));
    await brokenRow.click();
    await detail.getByTestId("email-detail-subject").waitFor();
    expect(new URL(page.url()).searchParams.get("email")).toBe(brokenId);
    expect(await verdict.getAttribute("data-authenticated")).toBe("false");
    expect(await verdict.getByTestId("email-authentication-summary").textContent()).toBe(
      "Not proven to be from unverified.example",
    );
    expect(await verdict.getByTestId("email-authentication-reason").textContent()).toContain(
      "the From address may be forged",
    );
    expect(await detail.getByTestId("email-detail-error-message").textContent()).toContain(
      "refuses this email",
    );
    await checkPage(page, "a failed email");
    refusedMarkers.delete(refusal);
    await detail.getByRole("button", { name: "Retry delivery" }).click();
    await detail.getByTestId("email-retried").waitFor();
    await expect
      .poll(() => detail.getByTestId("email-status").getAttribute("data-status"), {
        timeout: RUN_TIMEOUT_MS,
        interval: 500,
      })
      .toBe("processed");
    await snap(page, `${name}-06-email-retried`);
    await detail.getByRole("button", { name: "All email" }).click();
    await expect
      .poll(() => brokenRow.getByTestId("email-status").getAttribute("data-status"))
      .toBe("processed");

    const rules = page.getByTestId("email-settings");
    await rules.getByLabel("Only senders on the allowlist").click();
    await rules.getByLabel("Allowed senders").fill("alice@verified.example\nbob@");
    await rules.getByRole("button", { name: "Save sender rules" }).click();
    await expect
      .poll(() => rules.getByTestId("allowed-senders-error").textContent())
      .toBe("'bob@': each entry must be an email address or '@domain.tld'");
    await checkPage(page, "refused sender rules");
    await rules.getByLabel("Allowed senders").fill("Alice@Verified.example\n@verified.example");
    await rules.getByRole("button", { name: "Save sender rules" }).click();
    await expect.poll(() => rules.getByRole("status").textContent()).toBe("Saved.");
    expect(await rules.getByLabel("Allowed senders").inputValue()).toBe(
      "alice@verified.example\n@verified.example",
    );
    // Open to anyone again, so the next width's mail is delivered.
    await rules.getByLabel("Anyone (except blocked senders)").click();
    await rules.getByLabel("Allowed senders").fill("");
    await rules.getByRole("button", { name: "Save sender rules" }).click();
    await expect.poll(() => rules.getByRole("status").textContent()).toBe("Saved.");
    const saved = await owner.get(`/rpc/box/${boxId}/email-settings`);
    expect(saved.body).toMatchObject({ senderPolicy: "anyone", allowedSenders: [] });
    await page.context().close();
  }, 360_000);
});

/**
 * Follows `runLink` to its run's page, checks the run links back to `originPath`, and follows that.
 * Answers the run page's path.
 */
async function viaRunPageBackTo(page: Page, runLink: Locator, originPath: string): Promise<string> {
  const runHref = String(await runLink.getAttribute("href"));
  await runLink.click();
  await page.waitForURL(`${webUrl}${runHref}`);
  const origin = page.getByTestId("run-page").getByTestId("run-origin");
  expect(await origin.getAttribute("href")).toBe(originPath);
  await origin.click();
  await page.waitForURL(`${webUrl}${originPath}`);
  return runHref;
}
