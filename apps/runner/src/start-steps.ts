import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type EmbeddedPostgres,
  type EmbeddedRedis,
  findFreePort,
  type GeneratedSecrets,
  loadOrCreateSecrets,
  startEmbeddedPostgres,
  startEmbeddedRedis,
} from "@vps-claude/embedded";
import type { CleanupStack } from "./cleanup-stack";
import type { RunnerEnv } from "./env";
import type { ChildSpec, ManagedChild } from "./managed-child";
import { createPrefixedLogger, print } from "./output";
import { acquireRunLock, releaseRunLock, stopStaleChildren } from "./stale-run";
import { status, waitForHttp } from "./wait-for-http";
import { recordWebBuild, webBuildIsStale, webSourcesHash } from "./web-build";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const dataDir = path.join(repoRoot, ".data");
const EMBEDDED_POSTGRES_PORT = 33432;
const EMBEDDED_REDIS_PORT = 33379;
const READY_TIMEOUT_MS = 240_000;
const SPRITES_LOCAL_ENTRY = path.join(repoRoot, "apps", "sprites-local", "src", "main.ts");
const SERVER_ENTRY = path.join(repoRoot, "apps", "server", "src", "main.ts");

/**
 * `npm start`, in order. A step may leave work running (the databases, the dashboard build) as a
 * promise in the start state; the later step that needs the result awaits it.
 */
export const START_STEPS: readonly StartStep[] = [
  lockDataDir,
  checkPortsFree,
  startPostgres,
  startRedis,
  buildDashboard,
  loadSecrets,
  waitForDatabases,
  startSpritesLocal,
  bundleBoxAgent,
  startServer,
  startWeb,
  waitUntilReady,
  printBanner,
];

export type StartStep = (run: StartRun) => void | Promise<void>;

/** Platform secrets that the dashboard and the sandbox host have no use for, and so never see. */
const PLATFORM_SECRETS = [
  "DATABASE_URL",
  "REDIS_URL",
  "BETTER_AUTH_SECRET",
  "ENCRYPTION_KEY",
  "ENCRYPTION_KEYS_PREVIOUS",
  "SPRITES_TOKEN",
  "RESEND_API_KEY",
  "RESEND_WEBHOOK_SECRET",
  "SMTP_URL",
  "ANTHROPIC_API_KEY",
  "FAL_KEY",
  "REPLICATE_API_TOKEN",
  "ELEVENLABS_API_KEY",
  "GOOGLE_SPEECH_API_KEY",
];

export interface Service {
  name: string;
  url: string;
  /** What the banner says about it. */
  description: string;
  stop(): Promise<void>;
}

/** What the steps hand on to later steps. */
export interface StartState {
  runSpritesLocal: boolean;
  postgres?: Promise<Service>;
  redis?: Promise<Service>;
  secrets?: GeneratedSecrets;
  /** The `next` CLI, once the dashboard is built. */
  nextBin?: Promise<string>;
}

/** What a step may use: the runner's environment, the state so far, and the runner's means to start things. */
export interface StartRun {
  readonly env: RunnerEnv;
  readonly state: StartState;
  readonly shuttingDown: boolean;
  readonly cleanup: CleanupStack;
  /** Starts a child process and puts its stop on the cleanup stack; an unexpected exit stops everything. */
  startChild(spec: ChildSpec, options?: { expectExit?: boolean }): ManagedChild;
  reportCrash(child: ManagedChild, how: string): void;
  /** Puts Postgres or Redis, as it starts, on the cleanup stack. */
  infrastructure(name: string, starting: Promise<Service>): Promise<Service>;
  /** An embedded server as a Service; its unexpected exit stops everything. */
  embedded(name: string, starting: Promise<EmbeddedPostgres | EmbeddedRedis>, note: string): Promise<Service>;
}

/** Claims `.data` for this run and stops what an earlier, killed run left behind. */
async function lockDataDir(run: StartRun): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await acquireRunLock(dataDir);
  run.cleanup.push("the run lock", "lock", () => releaseRunLock(dataDir).catch(() => undefined));
  await stopStaleChildren(dataDir);
}

async function checkPortsFree(run: StartRun): Promise<void> {
  const { env } = run;
  run.state.runSpritesLocal = !env.SPRITES_TOKEN && existsSync(SPRITES_LOCAL_ENTRY);
  const ports: [string, number][] = [
    ["PORT", env.PORT],
    ["WEB_PORT", env.WEB_PORT],
  ];
  if (run.state.runSpritesLocal) {
    ports.push(
      ["SPRITES_LOCAL_PORT", env.SPRITES_LOCAL_PORT],
      ["SPRITES_LOCAL_PROXY_PORT", env.SPRITES_LOCAL_PROXY_PORT],
    );
  }
  for (const [variable, port] of ports) {
    if ((await findFreePort(port)) !== port) {
      throw new Error(
        `port ${port} is already in use on 127.0.0.1: stop what uses it, or set ${variable} to another port`,
      );
    }
  }
}

function startPostgres(run: StartRun): void {
  const { env } = run;
  run.state.postgres = run.infrastructure(
    "postgres",
    env.DATABASE_URL
      ? external("postgres", env.DATABASE_URL, "DATABASE_URL")
      : run.embedded(
          "postgres",
          startEmbeddedPostgres({
            dataDir: path.join(dataDir, "postgres"),
            port: EMBEDDED_POSTGRES_PORT,
            logger: createPrefixedLogger("postgres"),
          }),
          "data in .data/postgres",
        ),
  );
}

function startRedis(run: StartRun): void {
  const { env } = run;
  run.state.redis = run.infrastructure(
    "redis",
    env.REDIS_URL
      ? external("redis", env.REDIS_URL, "REDIS_URL")
      : run.embedded(
          "redis",
          startEmbeddedRedis({
            dataDir: path.join(dataDir, "redis"),
            port: EMBEDDED_REDIS_PORT,
            logger: createPrefixedLogger("redis"),
          }),
          "nothing kept on disk",
        ),
  );
}

/** Builds apps/web in the background when its sources changed since the last build; `startWeb` awaits it. */
function buildDashboard(run: StartRun): void {
  const built = buildWeb(run);
  // Awaited by startWeb; until then a failure must not count as an unhandled rejection.
  built.catch(() => undefined);
  run.state.nextBin = built;
}

async function loadSecrets(run: StartRun): Promise<void> {
  run.state.secrets = await loadOrCreateSecrets(dataDir);
}

async function waitForDatabases(run: StartRun): Promise<void> {
  await Promise.all([required(run.state.postgres, "postgres"), required(run.state.redis, "redis")]);
}

function startSpritesLocal(run: StartRun): void {
  const { env } = run;
  if (!run.state.runSpritesLocal) {
    if (!env.SPRITES_TOKEN) {
      print(
        "runner",
        "apps/sprites-local/src/main.ts does not exist yet: no sandbox host, boxes cannot start",
      );
    }
    return;
  }
  run.startChild({
    name: "sprites-local",
    command: process.execPath,
    args: ["--import", "tsx", SPRITES_LOCAL_ENTRY],
    cwd: repoRoot,
    env: childEnv(
      {
        SPRITES_LOCAL_PORT: String(env.SPRITES_LOCAL_PORT),
        SPRITES_LOCAL_PROXY_PORT: String(env.SPRITES_LOCAL_PROXY_PORT),
        // The one host service a sprite reaches from its own network namespace.
        SPRITES_LOCAL_PLATFORM_URL: env.SERVER_URL,
        SPRITES_LOCAL_TOKEN: spritesLocalToken(run),
        SPRITES_LOCAL_DATA: path.join(dataDir, "sprites"),
        // box-agent runs from the host's node_modules (Agent SDK, Claude Code, SQLite), read-only in each sandbox.
        SPRITES_LOCAL_RO_BINDS: path.join(repoRoot, "node_modules"),
      },
      { withSecrets: false },
    ),
  });
}

/** Bundles box-agent (≈1 s), which deploys copy into every sandbox. */
async function bundleBoxAgent(run: StartRun): Promise<void> {
  const build = run.startChild(
    {
      name: "box-agent-build",
      command: process.execPath,
      args: ["--import", "tsx", path.join(repoRoot, "apps", "box-agent", "scripts", "bundle.ts")],
      cwd: repoRoot,
      env: childEnv({}, { withSecrets: false }),
    },
    { expectExit: true },
  );
  const { code, signal } = await build.exited;
  if (!run.shuttingDown && code !== 0) {
    run.reportCrash(build, `exited with ${signal ?? `code ${code}`}`);
    throw new Error("the box-agent build failed");
  }
}

async function startServer(run: StartRun): Promise<void> {
  const { env } = run;
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(
      `${path.relative(repoRoot, SERVER_ENTRY)} does not exist: there is no API server to start`,
    );
  }
  const [postgres, redis] = await Promise.all([
    required(run.state.postgres, "postgres"),
    required(run.state.redis, "redis"),
  ]);
  run.startChild({
    name: "server",
    command: process.execPath,
    args: ["--import", "tsx", SERVER_ENTRY],
    cwd: repoRoot,
    env: childEnv(
      {
        ...serverSecrets(env, required(run.state.secrets, "the secrets")),
        PORT: String(env.PORT),
        HOST: env.HOST,
        SERVER_ROLE: env.SERVER_ROLE,
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        PUBLIC_URL: env.PUBLIC_URL,
        SERVER_URL: env.SERVER_URL,
        // The dashboard answers on both names; sign-in must work from either.
        TRUSTED_ORIGINS:
          env.TRUSTED_ORIGINS ?? `http://127.0.0.1:${env.WEB_PORT},http://localhost:${env.WEB_PORT}`,
        SPRITES_LOCAL_TOKEN: spritesLocalToken(run),
        ...(run.state.runSpritesLocal && !env.SPRITES_API_URL
          ? { SPRITES_API_URL: `http://127.0.0.1:${env.SPRITES_LOCAL_PORT}` }
          : {}),
      },
      { withSecrets: true },
    ),
  });
}

async function startWeb(run: StartRun): Promise<void> {
  const nextBin = await required(run.state.nextBin, "the dashboard build");
  if (run.shuttingDown) {
    return;
  }
  run.startChild({
    name: "web",
    command: process.execPath,
    args: [nextBin, "start", "-p", String(run.env.WEB_PORT), "-H", run.env.HOST],
    cwd: path.join(repoRoot, "apps", "web"),
    env: webEnv(run.env),
  });
}

async function waitUntilReady(run: StartRun): Promise<void> {
  const { env } = run;
  const serverUp = waitForHttp(`http://127.0.0.1:${env.PORT}/health`, {
    accept: (code) => code === 200,
    timeoutMs: READY_TIMEOUT_MS,
    cancelled: () => run.shuttingDown,
  });
  const webUp = waitForHttp(`http://127.0.0.1:${env.WEB_PORT}/`, {
    accept: (code) => code < 500,
    timeoutMs: READY_TIMEOUT_MS,
    cancelled: () => run.shuttingDown,
  });
  const [serverReady, webReady] = await Promise.all([serverUp, webUp]);
  if (run.shuttingDown) {
    return;
  }
  if (!serverReady || !webReady) {
    const missing = [!serverReady && `the API (/health)`, !webReady && "the dashboard"]
      .filter(Boolean)
      .join(" and ");
    throw new Error(`${missing} did not answer within ${READY_TIMEOUT_MS / 1000} s`);
  }
}

async function printBanner(run: StartRun): Promise<void> {
  const { env } = run;
  const localhostAnswers = (await status(`http://localhost:${env.WEB_PORT}/`)) !== undefined;
  const [postgres, redis] = await Promise.all([
    required(run.state.postgres, "postgres"),
    required(run.state.redis, "redis"),
  ]);
  const dashboard = localhostAnswers ? env.PUBLIC_URL : `http://127.0.0.1:${env.WEB_PORT}`;
  const rows: [string, string][] = [
    ["Dashboard", dashboard],
    ["API", `http://127.0.0.1:${env.PORT}  (health: /health)`],
    ["Postgres", postgres.description],
    ["Redis", redis.description],
    [
      "Sandboxes",
      env.SPRITES_TOKEN
        ? "Fly.io Sprites (SPRITES_TOKEN)"
        : run.state.runSpritesLocal
          ? `sprites-local, http://127.0.0.1:${env.SPRITES_LOCAL_PORT} (sprite URLs on :${env.SPRITES_LOCAL_PROXY_PORT}), data in .data/sprites`
          : "none (apps/sprites-local is missing)",
    ],
  ];
  const lines = [
    "",
    "  VPS Claude is running",
    "",
    ...rows.map(([label, value]) => `    ${label.padEnd(11)}${value}`),
    "",
    "  Secrets generated for this install are in .data/secrets.json. Press Ctrl-C to stop.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Builds apps/web when its sources changed since the last build; resolves to the `next` CLI. */
async function buildWeb(run: StartRun): Promise<string> {
  const webDir = path.join(repoRoot, "apps", "web");
  const nextBin = createRequire(path.join(webDir, "package.json")).resolve("next/dist/bin/next");
  const buildEnv = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] =>
      entry[0].startsWith("NEXT_PUBLIC_"),
    ),
  );
  const hash = await webSourcesHash(repoRoot, buildEnv);
  if (!(await webBuildIsStale(repoRoot, dataDir, hash))) {
    return nextBin;
  }
  print("runner", "building the dashboard (next build; about 15 s, only when apps/web changed)");
  const build = run.startChild(
    {
      name: "web-build",
      command: process.execPath,
      args: [nextBin, "build"],
      cwd: webDir,
      env: webEnv(run.env),
    },
    { expectExit: true },
  );
  const { code, signal } = await build.exited;
  if (run.shuttingDown) {
    return nextBin;
  }
  if (code !== 0) {
    run.reportCrash(build, `exited with ${signal ?? `code ${code}`}`);
    throw new Error("the dashboard build failed");
  }
  await recordWebBuild(dataDir, hash);
  return nextBin;
}

/** A value an earlier step sets; missing means the steps are out of order. */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`${what} is needed before the step that provides it ran: check the order of START_STEPS`);
  }
  return value;
}

function spritesLocalToken(run: StartRun): string {
  return run.env.SPRITES_LOCAL_TOKEN ?? required(run.state.secrets, "the secrets").SPRITES_LOCAL_TOKEN;
}

function external(name: string, url: string, variable: string): Promise<Service> {
  return Promise.resolve({ name, url, description: `from ${variable}`, stop: async () => undefined });
}

/** The environment wins over the generated secrets in .data/secrets.json. */
function serverSecrets(env: RunnerEnv, secrets: GeneratedSecrets): Record<string, string> {
  return {
    BETTER_AUTH_SECRET: env.BETTER_AUTH_SECRET ?? secrets.BETTER_AUTH_SECRET,
    ENCRYPTION_KEY: env.ENCRYPTION_KEY ?? secrets.ENCRYPTION_KEY,
  };
}

/** This process's environment plus `overrides`; for the dashboard and sprites-local, less the platform secrets. */
function childEnv(
  overrides: Record<string, string>,
  { withSecrets }: { withSecrets: boolean },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!withSecrets) {
    for (const name of PLATFORM_SECRETS) {
      delete env[name];
    }
  }
  return { ...env, ...overrides };
}

function webEnv(env: RunnerEnv): NodeJS.ProcessEnv {
  const result = childEnv(
    {
      PORT: String(env.WEB_PORT),
      SERVER_URL: env.SERVER_URL,
      PUBLIC_URL: env.PUBLIC_URL,
      NEXT_TELEMETRY_DISABLED: "1",
    },
    { withSecrets: false },
  );
  // next sets NODE_ENV itself and warns about any other value.
  delete result.NODE_ENV;
  return result;
}
