import {
  type Platform as HarnessPlatform,
  type RunningSprites,
  startPlatform as startHarnessPlatform,
} from "@vps-claude/testing/platform";
import type { CleanupStack } from "./cleanup";
import { log } from "./env";
import { killProcessesMentioning } from "./process-memory";

export interface PlatformOptions {
  /** `DATABASE_URL`: the scratch database is created beside the one it names. */
  adminUrl: string;
  redisUrl: string;
  /** Names the scratch database, temp dir and queue prefix (`bench_<label>…`). */
  label: string;
  cleanup: CleanupStack;
  /** Extra server configuration (fake Anthropic / Resend URLs, secrets). */
  env?: Record<string, string>;
  /** Extra environment for box-agent inside every sandbox. */
  boxAgentEnv?: Record<string, string>;
  /** Idle time before a sprite is frozen; long by default so sleep never interferes with a run. */
  spriteIdleMs?: number;
}

export interface Platform extends HarnessPlatform {
  spritesLocal: RunningSprites;
  boxAgentBundle: string;
}

/**
 * The test harness's platform (`@vps-claude/testing/platform`) as a benchmark wants it: sprites-local
 * as its own process, as `npm start` runs it, so sandbox spawning and the URL proxy do not share the
 * measured platform's event loop; logs on stderr (stdout carries the result); registered on `cleanup`.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const platform = await startHarnessPlatform({
    adminUrl: options.adminUrl,
    redisUrl: options.redisUrl,
    label: `bench_${options.label}`,
    sprites: "process",
    spriteIdleMs: options.spriteIdleMs ?? 30 * 60_000,
    boxAgentEnv: options.boxAgentEnv,
    logDestination: process.stderr,
    env: {
      // Not production: its secure cookies would not come back over plain http to 127.0.0.1.
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      DEPLOY_HEALTH_TIMEOUT_MS: "60000",
      ...options.env,
    },
  });
  options.cleanup.push("kill leftover sandbox processes", async () => {
    // Closing sprites-local stops every sandbox; anything still running from its data dir is a leak we end here.
    const killed = killProcessesMentioning(platform.spritesDataDir);
    if (killed > 0) {
      log(`killed ${killed} leftover sandbox processes`);
    }
  });
  options.cleanup.push("stop the platform", platform.close);
  const { spritesLocal, boxAgentBundle } = platform;
  if (!spritesLocal || !boxAgentBundle) {
    throw new Error("the platform started without sprites-local");
  }
  log(
    `platform on ${platform.url}, sprites-local on ${spritesLocal.url} (sandbox mode ${spritesLocal.sandboxMode})`,
  );
  return Object.assign(platform, { spritesLocal, boxAgentBundle });
}
