import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "@vps-claude/logger";
import { type AnthropicResponder, type FakeAnthropic, startFakeAnthropic } from "@vps-claude/testing";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { bundleBoxAgent } from "../scripts/bundle";
import type { McpCommand } from "../src/agent/claude-options";
import { type BoxAgentConfig, type ConfigFile, loadConfig } from "../src/config";
import { type RunningDaemon, runDaemon } from "../src/serve";
import { type FakePlatform, startFakePlatform } from "./fake-platform";

/** Env vars every test box hands Claude: no retries against a failing fake, and a bounded wait. */
export const TEST_CLAUDE_ENV = { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "20000" };

export interface TestBox {
  home: string;
  config: BoxAgentConfig;
  /** The daemon's base URL (a new one after `restart`). */
  readonly url: string;
  /** Calls the box-agent HTTP API with the box token (or `secret`, or none when `null`). */
  request(
    path: string,
    init?: { method?: string; body?: unknown; secret?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  stop(): Promise<void>;
  /** Starts the daemon again on the same home (after `stop`), as a restarted box would. */
  restart(): Promise<void>;
  /** Stops the daemon and deletes the box's home. */
  close(): Promise<void>;
}

export interface StartTestBoxOptions {
  platform: FakePlatform;
  anthropicUrl: string;
  mcpCommand: McpCommand;
  userEnv?: Record<string, string>;
  config?: Partial<ConfigFile>;
}

/** A box home in a temp dir, configured the way the platform's SetupStep configures a sandbox. */
export function writeBoxHome(options: {
  platform: FakePlatform;
  anthropicUrl: string;
  userEnv?: Record<string, string>;
  config?: Partial<ConfigFile>;
}): string {
  const home = mkdtempSync(join(tmpdir(), "box-agent-home-"));
  const dataDir = join(home, ".box-agent");
  mkdirSync(dataDir, { mode: 0o700 });
  const config: ConfigFile = {
    port: 0,
    host: "127.0.0.1",
    boxId: options.platform.boxId,
    boxSecret: options.platform.boxSecret,
    serverUrl: options.platform.url,
    // The platform leaves this unset (Claude then calls its gateway at serverUrl/box/llm); the fake
    // platform has no gateway, so these tests point Claude at the fake Messages API directly.
    anthropicBaseUrl: options.anthropicUrl,
    ...options.config,
  };
  writeFileSync(join(dataDir, "config.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
  writeFileSync(join(dataDir, "env.json"), JSON.stringify({ ...TEST_CLAUDE_ENV, ...options.userEnv }), {
    mode: 0o600,
  });
  return home;
}

export async function startTestBox(options: StartTestBoxOptions): Promise<TestBox> {
  const home = writeBoxHome(options);
  const config = loadConfig({ BOX_AGENT_HOME: home, PATH: process.env.PATH });
  const start = () =>
    runDaemon({
      config,
      mcpCommand: options.mcpCommand,
      logger: createLogger({ name: "box-agent-test", level: process.env.LOG_LEVEL ?? "silent" }),
    });
  let daemon: RunningDaemon | undefined = await start();
  let url = `http://127.0.0.1:${daemon.port}`;
  const stop = async () => {
    await daemon?.close();
    daemon = undefined;
  };
  return {
    home,
    config,
    get url() {
      return url;
    },
    async restart() {
      if (daemon !== undefined) {
        throw new Error("restart() needs the daemon stopped first (stop())");
      }
      daemon = await start();
      url = `http://127.0.0.1:${daemon.port}`;
    },
    request(path, init = {}) {
      const secret = init.secret === undefined ? config.boxSecret : init.secret;
      return fetch(`${url}${path}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: {
          ...(secret === null ? {} : { "x-box-secret": secret }),
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    },
    stop,
    async close() {
      await stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the real bundle into a temp dir and returns the command that starts its MCP server, so the
 * Claude runs in tests exercise what a sandbox gets. `box-agent mcp` needs no external packages.
 */
export async function buildTestBundle(): Promise<{ dir: string; bundle: string; mcpCommand: McpCommand }> {
  const dir = mkdtempSync(join(tmpdir(), "box-agent-bundle-"));
  const bundle = await bundleBoxAgent(join(dir, "box-agent.mjs"));
  return { dir, bundle, mcpCommand: { command: process.execPath, args: [bundle, "mcp"] } };
}

export interface ClaudeBoxEnv {
  fake: FakeAnthropic;
  platform: FakePlatform;
  bundle: { dir: string; mcpCommand: McpCommand };
  box: TestBox;
}

/**
 * The hooks every real-CLI test file needs: one bundle and one fake Messages API per file, a fresh
 * platform and box per test. `onReady` receives them before each test.
 */
export function useClaudeBox(respond: AnthropicResponder, onReady: (env: ClaudeBoxEnv) => void): void {
  let bundle: ClaudeBoxEnv["bundle"] | undefined;
  let fake: FakeAnthropic | undefined;
  let running: { platform: FakePlatform; box: TestBox } | undefined;

  beforeAll(async () => {
    bundle = await buildTestBundle();
    fake = await startFakeAnthropic({ respond });
  });

  afterAll(async () => {
    await fake?.close();
    if (bundle) {
      rmSync(bundle.dir, { recursive: true, force: true });
    }
  });

  beforeEach(async () => {
    if (!fake || !bundle) {
      throw new Error("the bundle and the fake Messages API did not start");
    }
    fake.setResponder(respond);
    fake.clearRequests();
    const platform = await startFakePlatform();
    const box = await startTestBox({ platform, anthropicUrl: fake.url, mcpCommand: bundle.mcpCommand });
    running = { platform, box };
    onReady({ fake, bundle, platform, box });
  });

  afterEach(async () => {
    await running?.box.close();
    await running?.platform.close();
    running = undefined;
  });
}

/** Pids of live processes whose working directory is `dir` (Linux /proc): Claude Code and its MCP servers. */
export function processesWorkingIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone meanwhile, or not ours to inspect.
    }
  }
  return pids;
}

/** The workspace's node_modules, standing in for the read-only one a sandbox is pointed at. */
export const NODE_MODULES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "node_modules",
);

export interface BoxAgentProcess {
  child: ChildProcess;
  /** Settles when the process exits, with its code and what it wrote to stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** The port it listens on, once it logged so. */
  port: Promise<number>;
}

/** Starts the built bundle as its own process, as a sandbox runs it: only PATH and HOME inherited. */
export function startBundleProcess(
  bundle: string,
  home: string,
  env: Record<string, string> = {},
): BoxAgentProcess {
  const child = spawn(process.execPath, [bundle, "serve"], {
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal, stderr })),
  );
  const port = new Promise<number>((resolvePort, reject) => {
    const stdout = child.stdout;
    if (stdout === null) {
      reject(new Error("no stdout"));
      return;
    }
    // The daemon logs one JSON line with its port once it listens.
    createInterface({ input: stdout }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "box-agent listening" && typeof entry.port === "number") {
          resolvePort(entry.port);
        }
      } catch {
        // Not a log line.
      }
    });
    void exited.then(({ code, stderr: text }) =>
      reject(new Error(`box-agent exited with ${code} before listening: ${text}`)),
    );
  });
  port.catch(() => undefined);
  return { child, exited, port };
}
