export { clearQueuePrefix as deleteKeysWithPrefix } from "@vps-claude/queue";
export { REPO_NODE_MODULES, testBoxAgentBundle } from "./box-agent";
export { type ServerAddress, signedInClient, TestClient } from "./client";
export { createScratchDatabase, requireEnv, type ScratchDatabase } from "./database";
export { freePort, type LoopbackServer, listenOnLoopback, waitFor, waitForHttp } from "./http";
export { type Platform, type StartPlatformOptions, startPlatform } from "./platform";
export { type PrivatePostgres, startPrivatePostgres } from "./private-postgres";
export { type PrivateRedis, startPrivateRedis } from "./private-redis";
export {
  type ResendProcess,
  startResendProcess,
  type WebhookLoadReport,
  type WebhookOutcome,
} from "./resend-process";
export { openScratchDatabase, seedUserWithBox } from "./seed";
export { type ServerProcess, spawnServerProcess, workerEnvFor } from "./server-process";
export { type RunningSprites, startSpritesLocalProcess } from "./sprites-process";
export { Teardown } from "./teardown";
