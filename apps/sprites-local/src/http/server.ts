import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { getRequestListener } from "@hono/node-server";
import { createLogger, type Logger } from "@vps-claude/logger";
import { WebSocketServer } from "ws";
import { type ConfinementReport, confinementReport, logNetworkMode } from "../domain/network/confinement.js";
import { createHostResolver } from "../domain/network/egress-proxy.js";
import { detectNetwork, NetworkHost, type NetworkMode } from "../domain/network/sprite-network.js";
import { SpriteRegistry } from "../domain/registry.js";
import {
  type ResourceEnforcement,
  ResourceHost,
  type ResourceHostOptions,
} from "../domain/resources/host.js";
import { detectSandbox, logSandboxMode, Sandbox, type SandboxMode } from "../domain/sandbox.js";
import { SpriteStore } from "../domain/store.js";
import { createApp } from "./app.js";
import type { AppContext } from "./context.js";
import { matchProxy, PROXY_PREFIX, proxyHttp, proxyUpgrade } from "./proxy.js";
import { handleExecUpgrade } from "./ws-exec.js";

export interface SpritesLocalOptions {
  /** Where sprites live on disk. Keep it out of anything a sprite may read (it is never bound into a sandbox). */
  dataDir: string;
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** Port of the API on 127.0.0.1; 0 picks a free one. Default 33010. */
  port?: number;
  /**
   * Port of the sprite URLs on 127.0.0.1, an origin apart from the API so nothing that reaches a
   * sprite URL (a redirect, a page's script) reaches `/v1`. Default 33011, or a free one when `port` is 0.
   */
  proxyPort?: number;
  /**
   * The platform URL sprites reach (SERVER_URL, e.g. http://127.0.0.1:33000). With network
   * namespaces it is the one host service a sprite reaches; it can also be set later (`setPlatformUrl`).
   */
  platformUrl?: string;
  /** "auto" (default) gives each sprite its own network namespace when the host allows; "host" shares the host's. */
  network?: "auto" | "host";
  /** DNS servers the egress proxy asks (host:port); default the system resolver. */
  dnsServers?: string[];
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
  /**
   * Resource limits: per-sprite defaults (`defaults`, overridden by `/policy/resources`), the largest
   * file `fs/read` serves (`maxReadBytes`, 32 MiB), the service log cap (`serviceLogBytes`, 4 MiB), and how
   * often disk use is measured (`diskCheckMs`, 3 s).
   */
  resources?: Omit<ResourceHostOptions, "dataDir" | "logger" | "sandboxMode">;
  logger?: Logger;
}

export interface SpritesLocal {
  /** Base URL for the SDK (`new SpritesClient(token, { baseURL: url })`). */
  url: string;
  port: number;
  /** Base URL of the sprite URLs (`<proxyUrl>/proxy/<name>`), a different origin from `url`. */
  proxyUrl: string;
  proxyPort: number;
  sandboxMode: SandboxMode;
  networkMode: NetworkMode;
  confinement: ConfinementReport;
  /** How memory, CPU, pids, files and disk are limited on this host. */
  resourceEnforcement: ResourceEnforcement;
  /** Tells sprites where the platform is, when it was not known at creation (tests listen on port 0). */
  setPlatformUrl(url: string): Promise<void>;
  /** The URL a sprite is reachable at (what the API reports as `url`). */
  spriteUrl(name: string): string;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 33010;
export const DEFAULT_PROXY_PORT = 33011;
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
  const networkDetection = detectNetwork(options.network ?? "auto", detection.mode === "bwrap-uid");
  const confinement = confinementReport(detection, networkDetection);
  logNetworkMode(logger, confinement, networkDetection);
  const network = new NetworkHost(networkDetection.mode, createHostResolver(options.dnsServers), logger);
  if (options.platformUrl) {
    await network.setPlatformUrl(options.platformUrl);
  } else if (networkDetection.mode === "netns") {
    logger.warn(
      "no platform URL yet (SPRITES_LOCAL_PLATFORM_URL): sprites reach nothing but the egress proxy",
    );
  }
  const sandbox = new Sandbox({ mode: detection.mode, readOnlyBinds });
  const resources = new ResourceHost({
    ...options.resources,
    dataDir: store.dataDir,
    logger,
    sandboxMode: detection.mode,
  });
  resources.logMode();
  const registry = new SpriteRegistry({
    store,
    sandbox,
    logger,
    idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
    coldAfterMs: options.coldAfterMs ?? DEFAULT_COLD_AFTER_MS,
    network,
    resources,
  });
  await registry.load();

  let proxyBaseUrl = "";
  const ctx: AppContext = {
    token: options.token,
    organization: options.organization ?? "local",
    registry,
    store,
    logger,
    confinement,
    spriteUrl: (name) => `${proxyBaseUrl}${PROXY_PREFIX}${encodeURIComponent(name)}`,
  };
  const app = createApp(ctx);
  const apiListener = getRequestListener(app.fetch);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const server = http.createServer((req, res) => void apiListener(req, res));
  server.on("upgrade", (req, socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (!handleExecUpgrade(ctx, wss, req, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
  });
  // Sprite URLs only: no path on this port leads to the API.
  const proxyServer = http.createServer((req, res) => {
    const target = matchProxy(req);
    if (target) {
      void proxyHttp(ctx, req, res, target);
      return;
    }
    const body = JSON.stringify({
      error: "not_found",
      message: `this port serves sprite URLs only (${PROXY_PREFIX}<name>/… or http://<name>.localhost:<port>/…)`,
    });
    res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  proxyServer.on("upgrade", (req, socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const target = matchProxy(req);
    if (target) {
      void proxyUpgrade(ctx, req, socket, head, target);
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });

  const apiPort = options.port ?? DEFAULT_PORT;
  // Never reachable from outside this machine.
  const port = await listenLoopback(server, apiPort);
  const proxyPort = await listenLoopback(
    proxyServer,
    options.proxyPort ?? (apiPort === 0 ? 0 : DEFAULT_PROXY_PORT),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  proxyBaseUrl = `http://127.0.0.1:${proxyPort}`;
  logger.info(
    {
      url: baseUrl,
      proxyUrl: proxyBaseUrl,
      dataDir: store.dataDir,
      sandbox: detection.mode,
      network: networkDetection.mode,
    },
    "sprites-local listening",
  );

  let closing: Promise<void> | null = null;
  return {
    url: baseUrl,
    port,
    proxyUrl: proxyBaseUrl,
    proxyPort,
    sandboxMode: detection.mode,
    networkMode: networkDetection.mode,
    confinement,
    resourceEnforcement: resources.enforcement,
    spriteUrl: ctx.spriteUrl,
    setPlatformUrl: (url) => network.setPlatformUrl(url),
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const proxyClosed = new Promise<void>((resolve) => proxyServer.close(() => resolve()));
        for (const client of wss.clients) {
          client.terminate();
        }
        await registry.shutdown();
        server.closeAllConnections();
        proxyServer.closeAllConnections();
        wss.close();
        await Promise.all([closed, proxyClosed]);
        await network.close();
        resources.close();
        logger.info("sprites-local stopped");
      })();
      return closing;
    },
  };
}

function listenLoopback(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
