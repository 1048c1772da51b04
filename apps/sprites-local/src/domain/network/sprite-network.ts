import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import type { Logger } from "@vps-claude/logger";
import { EgressProxy, type HostResolver } from "./egress-proxy.js";
import type { NetworkPolicy } from "./policy.js";

/**
 * - `netns`: each sprite has its own network namespace with only a loopback interface; it reaches
 *   the platform (SERVER_URL's port on its loopback) and the egress proxy (HTTP_PROXY), nothing else.
 * - `host`: sprites share the host's network (every loopback service, the LAN, other sprites).
 */
export type NetworkMode = "netns" | "host";

/** Where the egress proxy answers inside every sprite's namespace (HTTP_PROXY=http://127.0.0.1:3128). */
export const EGRESS_PROXY_PORT = 3128;
const FORWARDER_PATH = fileURLToPath(new URL("./forwarder.mjs", import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
/**
 * Sprites reach a loopback platform from this address, never from 127.0.0.1: the platform then tells
 * box traffic from the dashboard's, so trusting 127.0.0.1 as a proxy (TRUSTED_PROXIES) never lets a
 * box choose its own client address (every 127/8 address is local on Linux).
 */
export const SPRITE_SOURCE_ADDRESS = "127.0.0.2";

export interface NetworkDetection {
  mode: NetworkMode;
  /** Why sprites share the host network, for the startup warning. */
  warning: string | null;
}

/** Network namespaces need root (sprites-local never hands a sprite a capability to leave one). */
export function detectNetwork(requested: "auto" | "host", uidConfined: boolean): NetworkDetection {
  if (requested === "host") {
    return {
      mode: "host",
      warning: "network isolation disabled by configuration (SPRITES_LOCAL_NETWORK=host)",
    };
  }
  if (process.getuid?.() !== 0 || !uidConfined) {
    return {
      mode: "host",
      warning:
        "network namespaces need sprites-local to run as root with bubblewrap (sprites as their own uids)",
    };
  }
  for (const tool of ["unshare", "nsenter"]) {
    const probe = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
      return { mode: "host", warning: `${tool} (util-linux) is missing: apt-get install -y util-linux` };
    }
  }
  const probe = spawnSync("unshare", ["--net", "--", "true"], { encoding: "utf8", timeout: 10_000 });
  if (probe.status !== 0) {
    const reason = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim();
    return { mode: "host", warning: `cannot create a network namespace on this host (${reason})` };
  }
  return { mode: "netns", warning: null };
}

interface ListenEntry {
  port: number;
  socket: string;
}

/** One sprite's network namespace: its forwarder (holding the namespace), its egress proxy. */
export class SpriteNetwork {
  readonly inboundSocket: string;
  readonly egressSocket: string;
  private readonly egress: EgressProxy;
  private forwarder: ChildProcess | null = null;
  private netnsFd: number | null = null;
  private listen: ListenEntry[] = [];
  private closed = false;
  private pendingReady: Array<() => void> = [];

  constructor(
    private readonly host: NetworkHost,
    readonly spriteName: string,
    socketBase: string,
    policy: () => NetworkPolicy,
    resolve: HostResolver,
    private readonly logger: Logger,
  ) {
    this.inboundSocket = `${socketBase}.in`;
    this.egressSocket = `${socketBase}.egress`;
    this.egress = new EgressProxy({
      spriteName,
      socketPath: this.egressSocket,
      policy,
      resolve,
      logger,
    });
  }

  /** What nsenter joins: a descriptor sprites-local holds, so the namespace outlives a forwarder crash. */
  get netnsPath(): string {
    if (this.netnsFd === null) {
      throw new Error(`sprite '${this.spriteName}' has no network namespace`);
    }
    return `/proc/${process.pid}/fd/${this.netnsFd}`;
  }

  async start(): Promise<void> {
    await this.egress.listen();
    await this.startForwarder();
    this.netnsFd = fs.openSync(`/proc/${this.forwarder?.pid}/ns/net`, "r");
    await this.configure(this.host.outboundListeners(this.egressSocket));
  }

  async configure(listen: ListenEntry[]): Promise<void> {
    this.listen = listen;
    await this.send({ listen });
  }

  policyChanged(): void {
    this.egress.policyChanged();
  }

  /** A byte stream to `port` on the sprite's loopback. */
  connect(port: number): net.Socket {
    const socket = net.connect({ path: this.inboundSocket });
    socket.write(`connect ${port}\n`);
    return socket;
  }

  /** Whether something listens on `port` inside the sprite. */
  probe(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ path: this.inboundSocket });
      let answer = "";
      socket.on("data", (chunk: Buffer) => {
        answer += chunk.toString("latin1");
      });
      socket.once("close", () => resolve(answer === "1"));
      socket.once("error", () => resolve(false));
      socket.write(`probe ${port}\n`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const forwarder = this.forwarder;
    this.forwarder = null;
    if (forwarder && forwarder.exitCode === null && forwarder.signalCode === null) {
      const exited = new Promise<void>((resolve) => forwarder.once("close", () => resolve()));
      forwarder.kill("SIGKILL");
      await exited;
    }
    if (this.netnsFd !== null) {
      fs.closeSync(this.netnsFd);
      this.netnsFd = null;
    }
    await this.egress.close();
    fs.rmSync(this.inboundSocket, { force: true });
  }

  private async startForwarder(): Promise<void> {
    // The first forwarder creates the namespace; a restarted one joins the namespace we still hold.
    const [command, args] =
      this.netnsFd === null
        ? ["unshare", ["--net", "--", process.execPath, FORWARDER_PATH, this.inboundSocket]]
        : [
            "nsenter",
            [`--net=${this.netnsPath}`, "--", process.execPath, FORWARDER_PATH, this.inboundSocket],
          ];
    // Only PATH: the forwarder needs nothing of sprites-local's environment (which holds its token).
    const forwarderEnv: Record<string, string> = { PATH: process.env.PATH ?? "" };
    const child = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: forwarderEnv as NodeJS.ProcessEnv,
    });
    this.forwarder = child;
    const ready = this.waitReady();
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      try {
        const message = JSON.parse(line) as { ready?: boolean; error?: string };
        if (message.ready) {
          for (const resolve of this.pendingReady.splice(0)) {
            resolve();
          }
        } else if (message.error) {
          this.logger.error({ sprite: this.spriteName, reason: message.error }, "sprite network forwarder");
        }
      } catch {
        // Not a status line.
      }
    });
    child.stderr?.on("data", (chunk: Buffer) =>
      this.logger.warn(
        { sprite: this.spriteName, stderr: chunk.toString("utf8").trim() },
        "sprite network forwarder",
      ),
    );
    child.stdin?.on("error", () => undefined);
    child.once("close", (code, signal) => {
      if (this.closed || this.forwarder !== child) {
        return;
      }
      this.logger.error(
        { sprite: this.spriteName, code, signal },
        "sprite network forwarder died; restarting it in the same namespace",
      );
      this.forwarder = null;
      void this.startForwarder()
        .then(() => this.configure(this.listen))
        .catch((error: unknown) =>
          this.logger.error(
            { sprite: this.spriteName, err: error },
            "sprite network forwarder cannot restart",
          ),
        );
    });
    await ready;
  }

  private waitReady(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the network forwarder of sprite '${this.spriteName}' did not start`)),
        READY_TIMEOUT_MS,
      );
      this.pendingReady.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async send(message: unknown): Promise<void> {
    const ready = this.waitReady();
    this.forwarder?.stdin?.write(`${JSON.stringify(message)}\n`);
    await ready;
  }
}

/**
 * Host side of sprite networking: where the per-sprite sockets live, and the bridge from every
 * sprite's loopback SERVER_URL port to the real platform.
 */
export class NetworkHost {
  readonly mode: NetworkMode;
  private readonly runtimeDir: string | null;
  private readonly sprites = new Map<string, SpriteNetwork>();
  private platform: { host: string; port: number } | null = null;
  private platformBridge: net.Server | null = null;
  private readonly bridged = new Set<net.Socket>();

  constructor(
    mode: NetworkMode,
    private readonly resolve: HostResolver,
    private readonly logger: Logger,
  ) {
    this.mode = mode;
    // Unix socket paths are limited to ~108 bytes, so they live in a short private directory rather
    // than under the data directory. Sprites never see it (it is not bound into any sandbox).
    this.runtimeDir = mode === "netns" ? fs.mkdtempSync(path.join(os.tmpdir(), "sprites-local-net-")) : null;
    if (this.runtimeDir) {
      fs.chmodSync(this.runtimeDir, 0o700);
    }
  }

  get platformUrlKnown(): boolean {
    return this.platform !== null;
  }

  /** The proxy variables every sprite process gets (the namespace, not these, is what confines). */
  proxyEnv(): Record<string, string> {
    if (this.mode !== "netns") {
      return {};
    }
    const proxy = `http://127.0.0.1:${EGRESS_PROXY_PORT}`;
    const noProxy = "localhost,127.0.0.1,::1";
    return {
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
    };
  }

  /**
   * Where sprites reach the platform (SERVER_URL). A loopback URL gets a listener on the same port
   * on each sprite's own loopback, relayed to the real one; anything else goes through the egress proxy.
   */
  async setPlatformUrl(raw: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`platform URL '${raw}' is not a URL (expected e.g. http://127.0.0.1:33000)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`platform URL '${raw}' must be http:// or https://`);
    }
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    if (port === EGRESS_PROXY_PORT) {
      throw new Error(
        `platform URL '${raw}': port ${EGRESS_PROXY_PORT} is where sprites reach the egress proxy`,
      );
    }
    this.platform = LOOPBACK_HOSTS.has(url.hostname)
      ? { host: url.hostname.replace(/^\[|\]$/g, ""), port }
      : null;
    if (this.mode !== "netns" || !this.runtimeDir) {
      return;
    }
    if (this.platform && !this.platformBridge) {
      const target = this.platform;
      const socketPath = path.join(this.runtimeDir, "platform.sock");
      fs.rmSync(socketPath, { force: true });
      const bridge = net.createServer((client) => {
        client.on("error", () => client.destroy());
        this.bridged.add(client);
        client.once("close", () => this.bridged.delete(client));
        const current = this.platform ?? target;
        const upstream = net.connect({
          host: current.host,
          port: current.port,
          ...(net.isIPv4(current.host) ? { localAddress: SPRITE_SOURCE_ADDRESS } : {}),
        });
        upstream.on("error", () => client.destroy());
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        bridge.once("error", reject);
        bridge.listen(socketPath, () => resolve());
      });
      fs.chmodSync(socketPath, 0o600);
      this.platformBridge = bridge;
    }
    await Promise.all(
      [...this.sprites.values()].map((sprite) =>
        sprite.configure(this.outboundListeners(sprite.egressSocket)),
      ),
    );
    this.logger.info({ platform: url.origin }, "sprites reach the platform at its URL");
  }

  /** The TCP listeners a sprite's forwarder keeps on its loopback. */
  outboundListeners(egressSocket: string): ListenEntry[] {
    const listen: ListenEntry[] = [{ port: EGRESS_PROXY_PORT, socket: egressSocket }];
    if (this.platform && this.runtimeDir) {
      listen.push({ port: this.platform.port, socket: path.join(this.runtimeDir, "platform.sock") });
    }
    return listen;
  }

  /** Gives a sprite its namespace (null in `host` mode, where sprites use the host network). */
  async attach(name: string, policy: () => NetworkPolicy): Promise<SpriteNetwork | null> {
    if (this.mode !== "netns" || !this.runtimeDir) {
      return null;
    }
    const existing = this.sprites.get(name);
    if (existing) {
      return existing;
    }
    const base = path.join(this.runtimeDir, createHash("sha256").update(name).digest("hex").slice(0, 16));
    const network = new SpriteNetwork(this, name, base, policy, this.resolve, this.logger);
    this.sprites.set(name, network);
    try {
      await network.start();
    } catch (error) {
      this.sprites.delete(name);
      await network.close().catch(() => undefined);
      throw error;
    }
    return network;
  }

  async detach(name: string): Promise<void> {
    const network = this.sprites.get(name);
    this.sprites.delete(name);
    await network?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.sprites.keys()].map((name) => this.detach(name)));
    const bridge = this.platformBridge;
    this.platformBridge = null;
    for (const socket of this.bridged) {
      socket.destroy();
    }
    if (bridge) {
      await new Promise<void>((resolve) => bridge.close(() => resolve()));
    }
    if (this.runtimeDir) {
      fs.rmSync(this.runtimeDir, { recursive: true, force: true });
    }
  }
}
