import type { IncomingMessage, Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { serve } from "@hono/node-server";
import { HTTP_SERVER_OPTIONS } from "../../../../apps/server/src/http-server";

/** A port nobody listens on right now, for a child process that must be told its port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;
type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface LoopbackServer {
  url: string;
  port: number;
  /** Replaces the handler; until the first call every request gets 503 "starting". */
  handle(fetch: FetchHandler): void;
  /** Replaces the WebSocket upgrade handler; until the first call an upgrade is refused. */
  handleUpgrade(upgrade: UpgradeHandler): void;
  close(): Promise<void>;
}

/**
 * A Node HTTP server on 127.0.0.1 at a free port. It listens before it has a handler because the app
 * needs its own URL (SERVER_URL) in its config. The node-server bindings travel with each request:
 * the app reads the client's socket address from them.
 */
export async function listenOnLoopback(fetch?: FetchHandler): Promise<LoopbackServer> {
  let current: FetchHandler = fetch ?? (() => new Response("starting", { status: 503 }));
  const server = serve({
    fetch: (request, env) => current(request, env),
    port: 0,
    hostname: "127.0.0.1",
    serverOptions: HTTP_SERVER_OPTIONS,
  }) as Server;
  // Upgraded sockets leave the HTTP server's bookkeeping: closing must end them itself.
  const upgraded = new Set<Duplex>();
  let currentUpgrade: UpgradeHandler = (_request, socket) => socket.destroy();
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    currentUpgrade(request, socket, head);
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    handle(next) {
      current = next;
    },
    handleUpgrade(next) {
      currentUpgrade = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Requests in flight finish first (their handlers still use the database); a straggler is cut off.
        const force = setTimeout(() => {
          server.closeAllConnections();
          for (const socket of upgraded) {
            socket.destroy();
          }
        }, 2_000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** Polls until `check` returns a value `accept` likes (for hooks, where expect.poll is not allowed). */
export async function waitFor<T>(
  check: () => Promise<T>,
  accept: (value: T) => boolean,
  {
    timeout = 60_000,
    interval = 200,
    what = "condition",
  }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T = await check();
  while (!accept(last)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    last = await check();
  }
  return last;
}

/**
 * Waits until `url` answers below 500 (a redirect counts: it is not followed). `alive` is asked between
 * tries so a process that died stops the wait at once with its own explanation.
 */
export async function waitForHttp(
  url: string,
  { timeoutMs, alive = () => undefined }: { timeoutMs: number; alive?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    const death = alive();
    if (death !== undefined) {
      throw new Error(death);
    }
    try {
      const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      if (response.status < 500) {
        return;
      }
      lastProblem = `status ${response.status}`;
    } catch (error) {
      lastProblem = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastProblem})`);
}
