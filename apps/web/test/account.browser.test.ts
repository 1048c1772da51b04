import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserStack,
  checkA11y,
  expectNoHorizontalOverflow,
  startBrowserStack,
  VIEWPORTS,
} from "./browser-harness";

/** Set to a directory to keep a screenshot of each step (useful when this test fails). */
const screenshotDir = process.env.WEB_TEST_SCREENSHOTS;

let stack: BrowserStack | undefined;
let browser: Browser | undefined;
let webUrl = "";

beforeAll(async () => {
  // The whole API in this process: accounts and credentials need no sandbox host.
  stack = await startBrowserStack({ label: "account_web" });
  ({ browser, webUrl } = stack);
}, 240_000);

afterAll(async () => {
  await stack?.close();
}, 60_000);

const PASSWORD = "correct horse battery";

/** Both at once: axe finds nothing serious, and nothing scrolls sideways. */
async function checkPage(page: Page, step: string): Promise<void> {
  await checkA11y(page, `(${step}) `);
  await expectNoHorizontalOverflow(page);
  if (screenshotDir) {
    const width = page.viewportSize()?.width ?? 0;
    await page.screenshot({ path: path.join(screenshotDir, `account-${width}-${step}.png`), fullPage: true });
  }
}

async function openPage(viewport: { width: number; height: number }): Promise<Page> {
  if (!browser) {
    throw new Error("the browser did not start");
  }
  const context = await browser.newContext({ viewport });
  return context.newPage();
}

async function fillSignUp(page: Page, fields: { name: string; email: string; password: string }) {
  await page.getByLabel("Name").fill(fields.name);
  await page.getByLabel("Email").fill(fields.email);
  await page.getByLabel("Password").fill(fields.password);
  await page.getByRole("button", { name: "Create account" }).click();
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** At a phone's width the header's links and sign-out live in one menu. */
async function openPhoneMenu(page: Page) {
  await page.getByRole("button", { name: "Menu" }).click();
  const menu = page.getByRole("menu");
  await menu.waitFor();
  return menu;
}

async function signOut(page: Page, phone: boolean): Promise<void> {
  if (phone) {
    const menu = await openPhoneMenu(page);
    await menu.getByRole("menuitem", { name: "Sign out" }).click();
  } else {
    await page.getByRole("button", { name: "Sign out" }).click();
  }
  await page.waitForURL(/\/sign-in$/);
}

/** Credentials: the contract's rule under the field, then create, replace and delete, values masked. */
async function manageCredentials(page: Page): Promise<void> {
  await page.getByTestId("credentials-empty").waitFor();
  await checkPage(page, "02-settings-empty");

  const form = page.getByTestId("credential-form");
  await form.getByLabel("Name").fill("1_NOT_A_KEY");
  await form.getByLabel("Value").fill("anything");
  await form.getByRole("button", { name: "Add credential" }).click();
  await expect
    .poll(() => form.getByText("key must contain only letters, digits and underscores").count())
    .toBe(1);
  expect(await form.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");

  const first = "ghp_first_value_0123456789_AAAA";
  await form.getByLabel("Name").fill("GITHUB_TOKEN");
  await form.getByLabel("Value").fill(first);
  await form.getByRole("button", { name: "Add credential" }).click();
  const item = page.getByTestId("credential-item").filter({ hasText: "GITHUB_TOKEN" });
  const masked = item.getByTestId("credential-item-value");
  await expect.poll(() => masked.textContent()).toBe("••••••••AAAA");
  expect(await form.getByLabel("Value").inputValue()).toBe("");
  expect(await page.getByTestId("credentials").textContent()).not.toContain(first);
  await expect.poll(() => form.getByRole("button", { name: "Add credential" }).isEnabled()).toBe(true);
  await checkPage(page, "03-credential-created");

  await item.getByRole("button", { name: "Replace GITHUB_TOKEN" }).click();
  const replace = item.getByRole("form", { name: "Replace GITHUB_TOKEN" });
  await replace.getByRole("button", { name: "Save" }).click();
  await expect
    .poll(() => replace.getByTestId("credential-replace-error").textContent())
    .toBe("value must not be empty");
  await replace.getByLabel("New value for GITHUB_TOKEN").fill("ghp_second_value_0123456789_BBBB");
  await checkPage(page, "04-credential-replacing");
  await replace.getByRole("button", { name: "Save" }).click();
  await expect.poll(() => masked.textContent()).toBe("••••••••BBBB");
  await replace.waitFor({ state: "detached" });

  await item.getByRole("button", { name: "Delete GITHUB_TOKEN" }).click();
  const dialog = page.getByRole("alertdialog");
  await dialog.waitFor();
  await checkA11y(page, "(delete dialog) ");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  expect(await item.count()).toBe(1);
  await item.getByRole("button", { name: "Delete GITHUB_TOKEN" }).click();
  await dialog.getByRole("button", { name: "Delete credential" }).click();
  await item.waitFor({ state: "detached" });
  await page.getByTestId("credentials-empty").waitFor();
}

describe("accounts and settings in a browser", () => {
  for (const { name: width, viewport } of VIEWPORTS) {
    it(`signs up, manages credentials, signs out, refuses a taken email and a wrong password, and signs in back to the page (${width})`, async () => {
      const phone = width === "phone";
      const page = await openPage(viewport);
      const email = `ada-${randomBytes(4).toString("hex")}@example.com`;

      // A signed-out visit is sent to sign-in, which remembers the page through sign-up too.
      await page.goto(`${webUrl}/settings`);
      await page.waitForURL(/\/sign-in\?next=%2Fsettings$/);
      await checkPage(page, "00-sign-in");
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.waitForURL(/\/sign-up\?next=%2Fsettings$/);

      await fillSignUp(page, { name: "Ada Example", email, password: "short" });
      await expect.poll(() => page.getByTestId("auth-error").textContent()).toMatch(/at least 8 characters/);
      expect(await page.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
      await checkPage(page, "01-sign-up-error");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(`${webUrl}/settings`);

      if (phone) {
        const menu = await openPhoneMenu(page);
        expect(await menu.getByTestId("menu-user-email").textContent()).toBe(email);
        await checkA11y(page, "(phone menu) ");
        await menu.getByRole("menuitem", { name: "Usage" }).click();
        await page.waitForURL(`${webUrl}/settings/usage`);
        await (await openPhoneMenu(page)).getByRole("menuitem", { name: "Settings" }).click();
        await page.waitForURL(`${webUrl}/settings`);
      } else {
        expect(await page.getByTestId("user-email").textContent()).toBe(email);
        expect(await page.getByTestId("nav-settings").getAttribute("aria-current")).toBe("page");
      }

      await manageCredentials(page);
      await signOut(page, phone);

      await page.goto(`${webUrl}/sign-up`);
      await fillSignUp(page, { name: "Someone Else", email, password: "another password" });
      await expect.poll(() => page.getByTestId("auth-error").textContent()).toMatch(/already exists/);
      await checkPage(page, "05-email-taken");

      // Back to the usage page after signing in: `next` survives a wrong password.
      await page.goto(`${webUrl}/settings/usage`);
      await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fusage$/);
      await signIn(page, email, "not the password");
      await expect.poll(() => page.getByTestId("auth-error").textContent()).toBe("Wrong email or password.");
      await checkPage(page, "06-wrong-password");
      await signIn(page, email, PASSWORD);
      await page.waitForURL(`${webUrl}/settings/usage`);
      await page.getByTestId("usage-empty").waitFor();
      await page.getByTestId("box-budgets").or(page.getByText("No boxes yet")).waitFor();
      await checkPage(page, "07-usage-empty");

      // An address outside the site is never where sign-in sends anyone.
      await signOut(page, phone);
      await page.goto(`${webUrl}/sign-in?next=${encodeURIComponent("//evil.example/")}`);
      await signIn(page, email, PASSWORD);
      await page.waitForURL(`${webUrl}/`);

      await page.goto(`${webUrl}/no-such-page`);
      await page.getByTestId("not-found").waitFor();
      await checkPage(page, "08-not-found");
      await page.context().close();
    }, 180_000);
  }
});
