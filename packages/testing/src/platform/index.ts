export { clearQueuePrefix as deleteKeysWithPrefix } from "@vps-claude/queue";
export { REPO_NODE_MODULES, testBoxAgentBundle } from "./box-agent";
export { type ServerAddress, signedInClient, TestClient } from "./client";
export { createScratchDatabase, requireEnv, type ScratchDatabase } from "./database";
export { freePort, type LoopbackServer, listenOnLoopback, waitFor, waitForHttp } from "./http";
export { type Platform, type StartPlatformOptions, startPlatform } from "./platform";
export { openScratchDatabase, seedUserWithBox } from "./seed";
export { type RunningSprites, startSpritesLocalProcess } from "./sprites-process";
