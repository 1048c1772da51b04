import type { SpritesClient } from "@vps-claude/sprites";
import { nowMs } from "./distribution";

/** One call into the sandbox provider, with wall-clock bounds in epoch milliseconds. */
export interface SandboxCall {
  method: keyof SpritesClient;
  /** The sprite the call was about ("" for account-wide calls such as listSprites). */
  sprite: string;
  startMs: number;
  endMs: number;
  failed: boolean;
}

/**
 * A SpritesClient that calls straight through to `client` and records how long each call took, so
 * the time a deploy step spends waiting on the sandbox can be told apart from the platform's own.
 */
export function timeSpritesClient(client: SpritesClient, calls: SandboxCall[]): SpritesClient {
  function timed<A extends unknown[], R>(
    method: keyof SpritesClient,
    call: (...args: A) => Promise<R>,
  ): (...args: A) => Promise<R> {
    return async (...args) => {
      const startMs = nowMs();
      let failed = true;
      try {
        const result = await call(...args);
        failed = false;
        return result;
      } finally {
        const sprite = typeof args[0] === "string" && method !== "listSprites" ? args[0] : "";
        calls.push({ method, sprite, startMs, endMs: nowMs(), failed });
      }
    };
  }
  return {
    createOrGetSprite: timed("createOrGetSprite", client.createOrGetSprite),
    getSprite: timed("getSprite", client.getSprite),
    listSprites: timed("listSprites", client.listSprites),
    deleteSprite: timed("deleteSprite", client.deleteSprite),
    exec: timed("exec", client.exec),
    openTty: timed("openTty", client.openTty),
    writeFile: timed("writeFile", client.writeFile),
    readFile: timed("readFile", client.readFile),
    listDir: timed("listDir", client.listDir),
    putService: timed("putService", client.putService),
    getService: timed("getService", client.getService),
    deleteService: timed("deleteService", client.deleteService),
    fetchSprite: timed("fetchSprite", client.fetchSprite),
    waitForUrl: timed("waitForUrl", client.waitForUrl),
    checkpoint: timed("checkpoint", client.checkpoint),
    listCheckpoints: timed("listCheckpoints", client.listCheckpoints),
    restoreCheckpoint: timed("restoreCheckpoint", client.restoreCheckpoint),
    getNetworkPolicy: timed("getNetworkPolicy", client.getNetworkPolicy),
    setNetworkPolicy: timed("setNetworkPolicy", client.setNetworkPolicy),
  };
}
