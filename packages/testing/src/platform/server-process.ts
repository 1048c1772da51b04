import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Platform } from "./platform";

const SERVER_MAIN = fileURLToPath(new URL("../../../../apps/server/src/main.ts", import.meta.url));

/** apps/server as a process of its own, the way `npm start` runs it, which a fault test may kill. */
export interface ServerProcess {
  child: ChildProcess;
  /** The last of what it printed (stdout and stderr), for a failing test's message. */
  tail(): string;
  exited: Promise<void>;
  /** Sends the signal to its whole process group and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The environment a worker process (`SERVER_ROLE=worker`) needs to join an in-process platform: its
 * database, Redis and queue prefix, secrets, sandboxes and box-agent bundle. `extra` wins.
 */
export function workerEnvFor(platform: Platform, extra: Record<string, string> = {}): Record<string, string> {
  const { config } = platform;
  const defined = (entries: Record<string, string | undefined>) =>
    Object.fromEntries(
      Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
  return defined({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "test",
    SERVER_ROLE: "worker",
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    QUEUE_PREFIX: config.QUEUE_PREFIX,
    BETTER_AUTH_SECRET: config.BETTER_AUTH_SECRET,
    ENCRYPTION_KEY: config.ENCRYPTION_KEY,
    SERVER_URL: config.SERVER_URL,
    PUBLIC_URL: config.PUBLIC_URL,
    SPRITES_API_URL: config.SPRITES_API_URL,
    SPRITES_LOCAL_TOKEN: config.SPRITES_LOCAL_TOKEN,
    BOX_AGENT_BUNDLE: config.BOX_AGENT_BUNDLE,
    SPRITE_NAME_PREFIX: config.SPRITE_NAME_PREFIX,
    DATA_DIR: config.DATA_DIR,
    DEPLOY_HEALTH_TIMEOUT_MS: String(config.DEPLOY_HEALTH_TIMEOUT_MS),
    ANTHROPIC_BASE_URL: config.ANTHROPIC_BASE_URL,
    ANTHROPIC_API_KEY: config.ANTHROPIC_API_KEY,
    // The in-process API already decided about confinement; a worker serves no sign-ups.
    SANDBOX_UNCONFINED_OK: "1",
    SMTP_ENABLED: "off",
    LOG_LEVEL: "warn",
    ...extra,
  });
}

/** Starts apps/server in its own process group (so a kill takes whatever it started with it). */
export function spawnServerProcess(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER_MAIN], {
    // Next's types (the dashboard's tests compile this too) make NODE_ENV required in ProcessEnv.
    env: env as unknown as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 300) {
      output.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    exited,
    tail: () => `--- server process output (tail) ---\n${output.join("").slice(-6000)}`,
    async kill(signal = "SIGKILL") {
      const { pid } = child;
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      try {
        process.kill(-pid, signal);
      } catch {
        // Already gone.
      }
      await exited;
    },
  };
}
