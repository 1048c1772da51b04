import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { getRequestListener } from "@hono/node-server";
import { createLogger, type Logger } from "@vps-claude/logger";
import { WebSocketServer } from "ws";
import { createApp } from "./app.js";
import type { AppContext } from "./context.js";
import { matchProxy, PROXY_PREFIX, proxyHttp, proxyUpgrade } from "./proxy.js";
import { SpriteRegistry } from "./registry.js";
import { detectSandbox, logSandboxMode, Sandbox, type SandboxMode } from "./sandbox.js";
import { SpriteStore } from "./store.js";
import { handleExecUpgrade } from "./ws-exec.js";

export interface SpritesLocalOptions {
  /** Where sprites live on disk. Keep it out of anything a sprite may read (it is never bound into a sandbox). */
  dataDir: string;
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** Port on 127.0.0.1; 0 picks a free one. Default 33010. */
  port?: number;
  /** Idle time before a sprite turns `warm` (processes frozen). Default 30 s. */
  idleMs?: number;
  /** Further idle time before a `warm` sprite turns `cold` (processes killed). Default 5 min. */
  coldAfterMs?: number;
  /** Host paths made readable (read-only, same path) inside every sprite, e.g. the repo's node_modules. */
  readOnlyBinds?: string[];
  /** "none" runs sprites as plain processes (no confinement); "auto" (default) uses bubblewrap when it works. */
  sandbox?: "auto" | "none";
  /** Organization name reported by the API. Default "local". */
  organization?: string;
  logger?: Logger;
}

export interface SpritesLocal {
  /** Base URL for the SDK (`new SpritesClient(token, { baseURL: url })`). */
  url: string;
  port: number;
  sandboxMode: SandboxMode;
  /** The URL a sprite is reachable at (what the API reports as `url`). */
  spriteUrl(name: string): string;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 33010;
export const DEFAULT_IDLE_MS = 30_000;
export const DEFAULT_COLD_AFTER_MS = 5 * 60_000;

export async function createSpritesLocal(options: SpritesLocalOptions): Promise<SpritesLocal> {
  if (!options.token) {
    throw new Error("sprites-local needs an API token (SPRITES_LOCAL_TOKEN)");
  }
  const logger = options.logger ?? createLogger({ name: "sprites-local" });
  const store = new SpriteStore(options.dataDir);
  await store.init();
  const readOnlyBinds = options.readOnlyBinds ?? [];
  const detection = detectSandbox(
    path.join(store.dataDir, ".sandbox-probe"),
    options.sandbox ?? "auto",
    readOnlyBinds,
  );
  logSandboxMode(logger, detection);
  const sandbox = new Sandbox({ mode: detection.mode, readOnlyBinds });
  const registry = new SpriteRegistry({
    store,
    sandbox,
    logger,
    idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
    coldAfterMs: options.coldAfterMs ?? DEFAULT_COLD_AFTER_MS,
  });
  await registry.load();

  let baseUrl = "";
  const ctx: AppContext = {
    token: options.token,
    organization: options.organization ?? "local",
    registry,
    store,
    logger,
    spriteUrl: (name) => `${baseUrl}${PROXY_PREFIX}${encodeURIComponent(name)}`,
  };
  const app = createApp(ctx);
  const apiListener = getRequestListener(app.fetch);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const server = http.createServer((req, res) => {
    const target = matchProxy(req);
    if (target) {
      void proxyHttp(ctx, req, res, target);
      return;
    }
    void apiListener(req, res);
  });
  server.on("upgrade", (req, socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const target = matchProxy(req);
    if (target) {
      void proxyUpgrade(ctx, req, socket, head, target);
      return;
    }
    if (!handleExecUpgrade(ctx, wss, req, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Never reachable from outside this machine.
    server.listen(options.port ?? DEFAULT_PORT, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  logger.info({ url: baseUrl, dataDir: store.dataDir, sandbox: detection.mode }, "sprites-local listening");

  let closing: Promise<void> | null = null;
  return {
    url: baseUrl,
    port,
    sandboxMode: detection.mode,
    spriteUrl: ctx.spriteUrl,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const client of wss.clients) {
          client.terminate();
        }
        await registry.shutdown();
        server.closeAllConnections();
        wss.close();
        await closed;
        logger.info("sprites-local stopped");
      })();
      return closing;
    },
  };
}
