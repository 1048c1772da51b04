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
import { loadRunnerEnv, type RunnerEnv } from "./env";
import { type ChildSpec, ManagedChild } from "./managed-child";
import { createPrefixedLogger, print } from "./output";
import { acquireRunLock, RUN_MARKER, releaseRunLock, stopStaleChildren } from "./stale-run";
import { status, waitForHttp } from "./wait-for-http";
import { recordWebBuild, webBuildIsStale, webSourcesHash } from "./web-build";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dataDir = path.join(repoRoot, ".data");
const EMBEDDED_POSTGRES_PORT = 33432;
const EMBEDDED_REDIS_PORT = 33379;
const CHILD_STOP_GRACE_MS = 4_000;
const READY_TIMEOUT_MS = 240_000;

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

interface Service {
  name: string;
  url: string;
  /** What the banner says about it. */
  description: string;
  stop(): Promise<void>;
}

class Runner {
  private readonly children: ManagedChild[] = [];
  private readonly services: Promise<Service>[] = [];
  private stopping: Promise<never> | undefined;
  private firstSignalAt = 0;

  constructor(private readonly env: RunnerEnv) {}

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  async run(): Promise<void> {
    const { env } = this;
    await mkdir(dataDir, { recursive: true });
    await acquireRunLock(dataDir);
    await stopStaleChildren(dataDir);
    const spritesLocalEntry = path.join(repoRoot, "apps", "sprites-local", "src", "main.ts");
    const runSpritesLocal = !env.SPRITES_TOKEN && existsSync(spritesLocalEntry);
    await assertPortsFree([
      ["PORT", env.PORT],
      ["WEB_PORT", env.WEB_PORT],
      ...(runSpritesLocal
        ? [
            ["SPRITES_LOCAL_PORT", env.SPRITES_LOCAL_PORT] as [string, number],
            ["SPRITES_LOCAL_PROXY_PORT", env.SPRITES_LOCAL_PROXY_PORT] as [string, number],
          ]
        : []),
    ]);

    const database = this.service(
      env.DATABASE_URL
        ? external("postgres", env.DATABASE_URL, "DATABASE_URL")
        : this.embedded(
            "postgres",
            startEmbeddedPostgres({
              dataDir: path.join(dataDir, "postgres"),
              port: EMBEDDED_POSTGRES_PORT,
              logger: createPrefixedLogger("postgres"),
            }),
            "data in .data/postgres",
          ),
    );
    const redis = this.service(
      env.REDIS_URL
        ? external("redis", env.REDIS_URL, "REDIS_URL")
        : this.embedded(
            "redis",
            startEmbeddedRedis({
              dataDir: path.join(dataDir, "redis"),
              port: EMBEDDED_REDIS_PORT,
              logger: createPrefixedLogger("redis"),
            }),
            "nothing kept on disk",
          ),
    );
    const webBuilt = this.buildWeb();
    webBuilt.catch(() => undefined);
    const secrets = await loadOrCreateSecrets(dataDir);
    const [postgresService, redisService] = await Promise.all([database, redis]);
    if (this.shuttingDown) {
      return;
    }

    const spritesLocalToken = env.SPRITES_LOCAL_TOKEN ?? secrets.SPRITES_LOCAL_TOKEN;
    if (runSpritesLocal) {
      this.startChild({
        name: "sprites-local",
        command: process.execPath,
        args: ["--import", "tsx", spritesLocalEntry],
        cwd: repoRoot,
        env: childEnv(
          {
            SPRITES_LOCAL_PORT: String(env.SPRITES_LOCAL_PORT),
            SPRITES_LOCAL_PROXY_PORT: String(env.SPRITES_LOCAL_PROXY_PORT),
            // The one host service a sprite reaches from its own network namespace.
            SPRITES_LOCAL_PLATFORM_URL: env.SERVER_URL,
            SPRITES_LOCAL_TOKEN: spritesLocalToken,
            SPRITES_LOCAL_DATA: path.join(dataDir, "sprites"),
            // box-agent runs from the host's node_modules (Agent SDK, Claude Code, SQLite), read-only in each sandbox.
            SPRITES_LOCAL_RO_BINDS: path.join(repoRoot, "node_modules"),
          },
          { withSecrets: false },
        ),
      });
    } else if (!env.SPRITES_TOKEN) {
      print(
        "runner",
        "apps/sprites-local/src/main.ts does not exist yet: no sandbox host, boxes cannot start",
      );
    }

    await this.buildBoxAgent();
    if (this.shuttingDown) {
      return;
    }

    const serverEntry = path.join(repoRoot, "apps", "server", "src", "main.ts");
    if (!existsSync(serverEntry)) {
      throw new Error(
        `${path.relative(repoRoot, serverEntry)} does not exist: there is no API server to start`,
      );
    }
    this.startChild({
      name: "server",
      command: process.execPath,
      args: ["--import", "tsx", serverEntry],
      cwd: repoRoot,
      env: childEnv(
        {
          ...serverSecrets(env, secrets),
          PORT: String(env.PORT),
          HOST: env.HOST,
          SERVER_ROLE: env.SERVER_ROLE,
          DATABASE_URL: postgresService.url,
          REDIS_URL: redisService.url,
          PUBLIC_URL: env.PUBLIC_URL,
          SERVER_URL: env.SERVER_URL,
          // The dashboard answers on both names; sign-in must work from either.
          TRUSTED_ORIGINS:
            env.TRUSTED_ORIGINS ?? `http://127.0.0.1:${env.WEB_PORT},http://localhost:${env.WEB_PORT}`,
          SPRITES_LOCAL_TOKEN: spritesLocalToken,
          ...(runSpritesLocal && !env.SPRITES_API_URL
            ? { SPRITES_API_URL: `http://127.0.0.1:${env.SPRITES_LOCAL_PORT}` }
            : {}),
        },
        { withSecrets: true },
      ),
    });

    const nextBin = await webBuilt;
    if (this.shuttingDown) {
      return;
    }
    this.startChild({
      name: "web",
      command: process.execPath,
      args: [nextBin, "start", "-p", String(env.WEB_PORT), "-H", env.HOST],
      cwd: path.join(repoRoot, "apps", "web"),
      env: webEnv(env),
    });

    const serverUp = waitForHttp(`http://127.0.0.1:${env.PORT}/health`, {
      accept: (code) => code === 200,
      timeoutMs: READY_TIMEOUT_MS,
      cancelled: () => this.shuttingDown,
    });
    const webUp = waitForHttp(`http://127.0.0.1:${env.WEB_PORT}/`, {
      accept: (code) => code < 500,
      timeoutMs: READY_TIMEOUT_MS,
      cancelled: () => this.shuttingDown,
    });
    const [serverReady, webReady] = await Promise.all([serverUp, webUp]);
    if (this.shuttingDown) {
      return;
    }
    if (!serverReady || !webReady) {
      const missing = [!serverReady && `the API (/health)`, !webReady && "the dashboard"]
        .filter(Boolean)
        .join(" and ");
      throw new Error(`${missing} did not answer within ${READY_TIMEOUT_MS / 1000} s`);
    }
    const localhostAnswers = (await status(`http://localhost:${env.WEB_PORT}/`)) !== undefined;
    this.printBanner(postgresService, redisService, runSpritesLocal, localhostAnswers);
  }

  /** Bundles box-agent (≈1 s), which deploys copy into every sandbox. */
  private async buildBoxAgent(): Promise<void> {
    const build = this.startChild(
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
    if (!this.shuttingDown && code !== 0) {
      this.reportCrash(build, `exited with ${signal ?? `code ${code}`}`);
      throw new Error("the box-agent build failed");
    }
  }

  /** Builds apps/web when its sources changed since the last build; resolves to the `next` CLI. */
  private async buildWeb(): Promise<string> {
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
    const build = this.startChild(
      {
        name: "web-build",
        command: process.execPath,
        args: [nextBin, "build"],
        cwd: webDir,
        env: webEnv(this.env),
      },
      { expectExit: true },
    );
    const { code, signal } = await build.exited;
    if (this.shuttingDown) {
      return nextBin;
    }
    if (code !== 0) {
      this.reportCrash(build, `exited with ${signal ?? `code ${code}`}`);
      throw new Error("the dashboard build failed");
    }
    await recordWebBuild(dataDir, hash);
    return nextBin;
  }

  private startChild(spec: ChildSpec, options: { expectExit?: boolean } = {}): ManagedChild {
    const child = new ManagedChild({ ...spec, env: { ...spec.env, [RUN_MARKER]: dataDir } });
    this.children.push(child);
    if (!options.expectExit) {
      void child.exited.then(({ code, signal }) => {
        if (!this.shuttingDown) {
          this.reportCrash(child, `exited with ${signal ?? `code ${code}`}`);
          void this.shutdown(1);
        }
      });
    }
    return child;
  }

  private service(starting: Promise<Service>): Promise<Service> {
    this.services.push(starting);
    // Awaited later; until then a failure must not count as an unhandled rejection.
    starting.catch(() => undefined);
    return starting;
  }

  /** An embedded server as a Service; its unexpected exit stops everything. */
  private async embedded(
    name: string,
    starting: Promise<EmbeddedPostgres | EmbeddedRedis>,
    note: string,
  ): Promise<Service> {
    const server = await starting;
    void server.exited.then(() => {
      if (!this.shuttingDown) {
        print("runner", `${name} stopped unexpectedly; its log is in .data/${name}`);
        void this.shutdown(1);
      }
    });
    return {
      name,
      url: server.url,
      description: `embedded, 127.0.0.1:${server.port}, ${note}`,
      stop: server.stop,
    };
  }

  private reportCrash(child: ManagedChild, how: string): void {
    print("runner", `${child.name} ${how}. Its last lines:`);
    for (const line of child.lastLines()) {
      print("runner", `  ${line}`);
    }
  }

  onSignal(signal: NodeJS.Signals): void {
    const now = Date.now();
    if (!this.shuttingDown) {
      this.firstSignalAt = now;
      print("runner", `${signal}: stopping everything (Ctrl-C again to kill the services at once)`);
      void this.shutdown(0);
      return;
    }
    // npm and tsx pass a terminal Ctrl-C on, so one press arrives several times within a moment.
    if (now - this.firstSignalAt > 1_000) {
      print("runner", "killing the services");
      for (const child of this.children) {
        child.kill();
      }
    }
  }

  /** Stops the services first, then Redis and Postgres, and exits. */
  shutdown(code: number): Promise<never> {
    if (!this.stopping) {
      this.stopping = (async () => {
        await Promise.all(this.children.map((child) => child.stop(CHILD_STOP_GRACE_MS)));
        const started = await Promise.allSettled(this.services);
        await Promise.all(
          started.map((result) =>
            result.status === "fulfilled"
              ? result.value
                  .stop()
                  .catch((error: unknown) => print("runner", `stopping ${result.value.name}: ${error}`))
              : undefined,
          ),
        );
        await releaseRunLock(dataDir).catch(() => undefined);
        print("runner", code === 0 ? "stopped" : "stopped after a failure");
        process.exit(code);
      })();
    }
    return this.stopping;
  }

  private printBanner(
    postgres: Service,
    redis: Service,
    spritesLocal: boolean,
    localhostAnswers: boolean,
  ): void {
    const { env } = this;
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
          : spritesLocal
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

async function assertPortsFree(ports: [string, number][]): Promise<void> {
  for (const [variable, port] of ports) {
    if ((await findFreePort(port)) !== port) {
      throw new Error(
        `port ${port} is already in use on 127.0.0.1: stop what uses it, or set ${variable} to another port`,
      );
    }
  }
}

async function main(): Promise<void> {
  let env: RunnerEnv;
  try {
    env = loadRunnerEnv();
  } catch (error) {
    print("runner", (error as Error).message);
    process.exit(1);
  }
  const runner = new Runner(env);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => runner.onSignal(signal));
  }
  try {
    await runner.run();
  } catch (error) {
    if (!runner.shuttingDown) {
      print("runner", `failed to start: ${(error as Error).message}`);
      await runner.shutdown(1);
    }
  }
}

await main();
