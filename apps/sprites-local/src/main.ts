import { createLogger } from "@vps-claude/logger";
import { readSpritesLocalEnv } from "./env.js";
import { createSpritesLocal } from "./http/server.js";

const logger = createLogger({ name: "sprites-local" });

let config: ReturnType<typeof readSpritesLocalEnv>;
try {
  config = readSpritesLocalEnv();
} catch (error) {
  logger.fatal({ err: error }, "sprites-local cannot start");
  process.exit(1);
}

const spritesLocal = await createSpritesLocal({ ...config, logger });

let stopping = false;
async function stop(signal: string) {
  if (stopping) {
    return;
  }
  stopping = true;
  logger.info({ signal }, "shutting down");
  await spritesLocal.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
