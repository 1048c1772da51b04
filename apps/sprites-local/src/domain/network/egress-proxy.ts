import dns from "node:dns";
import fs from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "@vps-claude/logger";
import { forbiddenAddressReason } from "./address-policy.js";
import { decidingRule, type NetworkPolicy } from "./policy.js";

const CONNECT_TIMEOUT_MS = 10_000;
/** Headers that describe one hop (or the proxy itself) and must not travel further. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Resolves a host name to the addresses the proxy may pick from. */
export type HostResolver = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), or a fixed list of DNS servers. */
export function createHostResolver(dnsServers?: string[]): HostResolver {
  if (!dnsServers || dnsServers.length === 0) {
    return async (host) =>
      (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  }
  const resolver = new dns.promises.Resolver();
  resolver.setServers(dnsServers);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const addresses = [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
    if (addresses.length === 0) {
      throw new Error(`no address for ${host}`);
    }
    return addresses;
  };
}

class Refusal extends Error {
  constructor(
    readonly status: 400 | 403 | 502 | 504,
    message: string,
  ) {
    super(message);
  }
}

export interface EgressProxyOptions {
  spriteName: string;
  socketPath: string;
  policy(): NetworkPolicy;
  resolve: HostResolver;
  logger: Logger;
}

interface Tunnel {
  host: string;
  sockets: Duplex[];
}

/**
 * The HTTP(S) proxy a sprite reaches the internet through (CONNECT for TLS, absolute-form requests
 * for plain HTTP), listening on a host Unix socket that the sprite's forwarder relays to.
 * It resolves names itself and connects to the very address it checked.
 */
export class EgressProxy {
  private readonly server: http.Server;
  private readonly tunnels = new Set<Tunnel>();
  private readonly options: EgressProxyOptions;

  constructor(options: EgressProxyOptions) {
    this.options = options;
    this.server = http.createServer((req, res) => void this.forward(req, res));
    this.server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.tunnel(req, socket, head);
    });
    this.server.on("clientError", (_error, socket) => socket.destroy());
  }

  async listen(): Promise<void> {
    fs.rmSync(this.options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    fs.chmodSync(this.options.socketPath, 0o600);
  }

  /** Applies a new policy to open tunnels: a connection to a newly denied domain ends now. */
  policyChanged(): void {
    for (const tunnel of this.tunnels) {
      if (decidingRule(this.options.policy(), tunnel.host)?.action === "deny") {
        for (const socket of tunnel.sockets) {
          socket.destroy();
        }
        this.tunnels.delete(tunnel);
      }
    }
  }

  async close(): Promise<void> {
    for (const tunnel of this.tunnels) {
      for (const socket of tunnel.sockets) {
        socket.destroy();
      }
    }
    this.tunnels.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    fs.rmSync(this.options.socketPath, { force: true });
  }

  /** Checks the domain rules, resolves and checks the address; returns where to connect. */
  private async destination(host: string, port: number): Promise<string> {
    const rule = decidingRule(this.options.policy(), host);
    if (rule?.action === "deny") {
      throw new Refusal(
        403,
        `${host} is denied by sprite '${this.options.spriteName}''s network policy (rule: deny ${rule.domain})`,
      );
    }
    let addresses: string[];
    if (net.isIP(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await this.options.resolve(host);
      } catch (error) {
        throw new Refusal(502, `cannot resolve ${host}: ${(error as Error).message}`);
      }
    }
    let firstReason: string | null = null;
    for (const address of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason === null) {
        return address;
      }
      firstReason ??= `${address} is ${reason}`;
    }
    throw new Refusal(
      403,
      `sprites are not allowed to reach ${host}:${port}: ${firstReason ?? "it has no address"}`,
    );
  }

  private refuse(target: string, error: unknown): Refusal {
    const refusal =
      error instanceof Refusal
        ? error
        : new Refusal(502, `cannot reach ${target}: ${(error as Error).message}`);
    this.options.logger.info(
      { sprite: this.options.spriteName, target, reason: refusal.message },
      "egress refused",
    );
    return refusal;
  }

  private async tunnel(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    client.on("error", () => client.destroy());
    const target = req.url ?? "";
    const parsed = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(target);
    const port = Number(parsed?.[2]);
    const host = parsed?.[1]?.toLowerCase();
    try {
      if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Refusal(400, `CONNECT needs host:port, got '${target}'`);
      }
      const address = await this.destination(host, port);
      const upstream = await connectTo(address, port);
      const tunnel: Tunnel = { host, sockets: [client, upstream] };
      this.tunnels.add(tunnel);
      const end = () => {
        this.tunnels.delete(tunnel);
        client.destroy();
        upstream.destroy();
      };
      upstream.on("error", end);
      upstream.on("close", end);
      client.on("close", end);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) {
        upstream.write(head);
      }
      upstream.pipe(client);
      client.pipe(upstream);
    } catch (error) {
      const refusal = this.refuse(target, error);
      const body = `${refusal.message}\n`;
      client.end(
        `HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      sendRefusal(
        res,
        new Refusal(400, "send absolute-form requests (GET http://host/path) or CONNECT host:port"),
      );
      req.resume();
      return;
    }
    if (url.protocol !== "http:") {
      sendRefusal(res, new Refusal(400, `only http:// is proxied this way; use CONNECT for ${url.protocol}`));
      req.resume();
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const port = url.port ? Number(url.port) : 80;
    let address: string;
    try {
      address = await this.destination(host, port);
    } catch (error) {
      sendRefusal(res, this.refuse(`${host}:${port}`, error));
      req.resume();
      return;
    }
    const headers: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const key = req.rawHeaders[i] ?? "";
      if (!HOP_HEADERS.has(key.toLowerCase())) {
        headers.push(key, req.rawHeaders[i + 1] ?? "");
      }
    }
    const upstream = http.request({
      host: address,
      port,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.on("response", (upstreamRes) => {
      const responseHeaders: string[] = [];
      for (let i = 0; i + 1 < upstreamRes.rawHeaders.length; i += 2) {
        const key = upstreamRes.rawHeaders[i] ?? "";
        if (!HOP_HEADERS.has(key.toLowerCase())) {
          responseHeaders.push(key, upstreamRes.rawHeaders[i + 1] ?? "");
        }
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      upstreamRes.pipe(res);
      upstreamRes.on("error", () => res.destroy());
    });
    upstream.on("timeout", () => upstream.destroy(new Error("timed out")));
    upstream.on("error", (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendRefusal(res, this.refuse(`${host}:${port}`, error));
    });
    res.once("close", () => {
      if (!res.writableFinished) {
        upstream.destroy();
      }
    });
    req.pipe(upstream);
  }
}

function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  const body = `${refusal.message}\n`;
  res.writeHead(refusal.status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}

function connectTo(address: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Refusal(504, `connecting to ${address}:${port} timed out`));
    }, CONNECT_TIMEOUT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
