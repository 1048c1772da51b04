import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePort,
  type Platform,
  type StartPlatformOptions,
  startPlatform,
  Teardown,
  waitForHttp,
} from "@vps-claude/testing/platform";
import { type Browser, chromium, type Page } from "playwright-core";

/**
 * What a browser test of the dashboard needs around the page: Debian's chromium through
 * playwright-core, a production build of the dashboard (`next build` once, while sources are
 * unchanged), and `next start` in front of an API server. The same steps as
 * `dashboard.browser.test.ts`, shared so further page tests need not copy them.
 */

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

export interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
}

export function startService(
  name: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Service {
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
  return service;
}

export function outputOf(service: Service): string {
  return `--- ${service.name} output (tail) ---\n${service.output.join("").slice(-4000)}`;
}

export async function stopService(service: Service): Promise<void> {
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

export async function waitForService(url: string, service: Service, timeoutMs: number): Promise<void> {
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

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      newest = Math.max(newest, newestSourceMtime(full));
    } else if (!/\.test\.tsx?$/.test(entry.name)) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

function buildIsFresh(): boolean {
  const buildId = path.join(webDir, ".next/BUILD_ID");
  if (!existsSync(buildId)) {
    return false;
  }
  const newestSource = Math.max(
    newestSourceMtime(path.join(webDir, "src")),
    ...["next.config.ts", "package.json", "tsconfig.json"].map(
      (file) => statSync(path.join(webDir, file)).mtimeMs,
    ),
  );
  return statSync(buildId).mtimeMs > newestSource;
}

const BUILD_LOCK = path.join(webDir, ".next-build.lock");

/** Takes the build lock (a directory: mkdir is atomic), breaking one whose holder has died. */
async function lockBuild(deadline: number): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      writeFileSync(path.join(BUILD_LOCK, "pid"), String(process.pid));
      return () => rmSync(BUILD_LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
    }
    if (!lockHolderAlive()) {
      rmSync(BUILD_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`another process has held ${BUILD_LOCK} too long`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(path.join(BUILD_LOCK, "pid"), "utf8"));
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // No pid file yet: the holder is between mkdir and write, so alive.
    return (error as NodeJS.ErrnoException).code === "ENOENT" && existsSync(BUILD_LOCK);
  }
}

/**
 * Builds the dashboard unless `.next/BUILD_ID` is newer than every source file. Test files run in
 * parallel processes: two builds at once in one directory would wipe `.next` under a `next start`
 * another file already serves from, so one build at a time, under a lock, and freshness is looked
 * at again once the lock is held.
 */
export async function ensureDashboardBuilt(): Promise<void> {
  if (buildIsFresh()) {
    return;
  }
  const unlock = await lockBuild(Date.now() + 300_000);
  try {
    if (buildIsFresh()) {
      return;
    }
    const build = startService("next build", [nextBin, "build"], {
      cwd: webDir,
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    });
    const code = await new Promise<number | null>((resolve) => build.child.once("exit", resolve));
    if (code !== 0) {
      throw new Error(`next build failed with code ${code}\n${outputOf(build)}`);
    }
  } finally {
    unlock();
  }
}

/** `next start` of the built dashboard on 127.0.0.1:`port`, calling the API at `serverUrl`. */
export async function startDashboard(port: number, serverUrl: string): Promise<Service> {
  const web = startService("next start", [nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: webDir,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", SERVER_URL: serverUrl },
  });
  await waitForService(`http://127.0.0.1:${port}/sign-in`, web, 60_000);
  return web;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's browser with 'apt-get install -y chromium'`);
  }
  // Playwright gives the browser a fresh, temporary user-data-dir and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** What a browser test runs against: the platform, the built dashboard in front of it, and Chromium. */
export interface BrowserStack {
  platform: Platform;
  /** The dashboard's address, which is also the platform's `PUBLIC_URL`. */
  webUrl: string;
  browser: Browser;
  /** Stops the browser, the dashboard and the platform, in that order; every one is stopped even if one fails. */
  close(): Promise<void>;
}

/**
 * Starts a browser test's stack: the platform with `options` (its `PUBLIC_URL` the dashboard's
 * address, so better-auth trusts the pages' origin), the dashboard built meanwhile, and Chromium.
 * What started before a failure is stopped again before the error is thrown.
 */
export async function startBrowserStack(options: StartPlatformOptions): Promise<BrowserStack> {
  const webPort = await freePort();
  const webUrl = `http://localhost:${webPort}`;
  const built = ensureDashboardBuilt();
  const teardown = new Teardown("browser stack");
  try {
    const platform = await startPlatform({ ...options, env: { ...options.env, PUBLIC_URL: webUrl } });
    teardown.push(() => platform.close());
    await built;
    const web = await startDashboard(webPort, platform.url);
    teardown.push(() => stopService(web));
    const browser = await launchChromium();
    // A browser that already went away (it crashed, or a test closed it) has nothing left to stop.
    teardown.push(() => browser.close().catch(() => undefined));
    return { platform, webUrl, browser, close: () => teardown.run() };
  } catch (error) {
    await built.catch(() => undefined);
    await teardown.run().catch(() => undefined);
    throw error;
  }
}

/** Desktop and phone viewports: every page is tested at both. */
export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;
export const VIEWPORTS = [
  { name: "desktop", viewport: DESKTOP },
  { name: "phone", viewport: PHONE },
] as const;

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The dashboard follows the system's colour scheme: each page is judged in both. */
const COLOR_SCHEMES = ["light", "dark"] as const;

/**
 * Runs axe-core (WCAG 2.x A/AA rules) on what the page shows now, in light and in dark mode, and
 * fails on any serious or critical violation, naming the mode, each rule, why it matters and the
 * elements it found. The page is left in the colour scheme it had.
 */
export async function checkA11y(page: Page, context = ""): Promise<void> {
  const wasDark = await page.evaluate(() => window.matchMedia("(prefers-color-scheme: dark)").matches);
  const failures: string[] = [];
  try {
    for (const colorScheme of COLOR_SCHEMES) {
      await page.emulateMedia({ colorScheme });
      // The colours change through the controls' transitions: axe judges them once they ended.
      await settle(page);
      const violations = await axeViolations(page);
      if (violations.length > 0) {
        const lines = violations.map(
          (violation) =>
            `- ${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.targets.join("\n    ")}`,
        );
        failures.push(`${violations.length} in ${colorScheme} mode:\n${lines.join("\n")}`);
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: wasDark ? "dark" : "light" });
    await settle(page);
  }
  if (failures.length > 0) {
    throw new Error(
      `axe found serious/critical violations ${context}on ${page.url()}, ${failures.join("\n")}`,
    );
  }
}

async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) {
    await page.addScriptTag({ content: axeSource });
  }
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }
    ).axe;
    const results = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        // What axe measured (for contrast: both colours and the ratio), beside each element.
        targets: violation.nodes
          .slice(0, 5)
          .map((node) => `${node.target.join(" ")}: ${node.failureSummary?.replace(/\s+/g, " ") ?? ""}`),
      }));
  });
}

/**
 * What axe sees is the page at rest: the pointer off the control it last clicked, every
 * transition ended (a control that just left its busy state fades back in), and the navigation
 * done to its title (Next.js streams a page's metadata: after a client-side navigation the old
 * `<title>` is gone for a moment before the new one arrives, sometimes after the page's content).
 */
async function settle(page: Page): Promise<void> {
  await page.mouse.move(0, 0);
  await page.evaluate(async () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    // Headless Chromium now and then never ends this wait (seen on the usage page, switching back to
    // light, with no animation left running): none of it is left open-ended.
    const deadline = Date.now() + 5_000;
    // A new colour scheme reaches the controls a frame or more later, and one transition ending can
    // start another: the page is at rest once two frames pass with nothing finite running.
    while (Date.now() < deadline) {
      await Promise.race([nextFrame().then(nextFrame), pause(250)]);
      const running = document
        .getAnimations()
        // A spinner runs for ever; only what ends is waited for.
        .filter((animation) => animation.effect?.getTiming().iterations !== Number.POSITIVE_INFINITY)
        .filter((animation) => animation.playState === "running");
      if (running.length === 0) {
        if (document.title !== "") {
          return;
        }
        continue;
      }
      // One cancelled meanwhile (its element went away) rejects: that is settled too.
      await Promise.race([
        Promise.all(running.map((animation) => animation.finished.catch(() => undefined))),
        pause(deadline - Date.now()),
      ]);
    }
  });
}

interface AxeResults {
  violations: {
    id: string;
    impact: string | null;
    help: string;
    nodes: { target: string[]; failureSummary?: string }[];
  }[];
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Fails when the page scrolls sideways at its width (something is cut off or overflows on a phone). */
export async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) {
    throw new Error(
      `${page.url()} is ${overflow}px wider than the ${await page.evaluate(() => window.innerWidth)}px viewport`,
    );
  }
}
