import http from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@vps-claude/testing/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { ensureDashboardBuilt, type Service, startDashboard, stopService } from "./browser-harness";

/**
 * WebSocket upgrades under /rpc through the dashboard (`next start`) to a stand-in API on a port
 * chosen after the build, so the pass-through is resolved at run time. The stand-in answers with
 * the headers it saw: cookie and Origin must arrive as the browser sent them (the API checks both),
 * and its refusals must reach the browser as they are.
 */
let upstream: http.Server;
let web: Service | undefined;
let webUrl = "";

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true });
  upstream = http.createServer((_req, res) => {
    res.writeHead(404, { "content-type": "application/json" }).end('{"message":"not here"}');
  });
  upstream.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/rpc/box/box_refused/terminal")) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ url: req.url, cookie: req.headers.cookie, origin: req.headers.origin }));
      ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  await ensureDashboardBuilt();
  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  web = await startDashboard(port, upstreamUrl);
}, 360_000);

afterAll(async () => {
  if (web) {
    await stopService(web);
  }
  await new Promise<void>((resolve) => upstream?.close(() => resolve()) ?? resolve());
});

function connect(pathname: string): WebSocket {
  return new WebSocket(`${webUrl.replace(/^http/, "ws")}${pathname}`, {
    headers: { cookie: "better-auth.session_token=abc.def", origin: "http://localhost:33001" },
  });
}

const nextMessage = (socket: WebSocket) =>
  new Promise<Buffer>((resolve) => socket.once("message", (data: Buffer) => resolve(data)));

describe("the dashboard's /rpc proxy and WebSockets", () => {
  it("passes an upgrade through with the browser's cookie and Origin, both ways", async () => {
    const socket = connect("/rpc/box/box_1/terminal?cols=90&rows=20");
    const seen = JSON.parse((await nextMessage(socket)).toString("utf8")) as Record<string, string>;
    expect(seen).toEqual({
      url: "/rpc/box/box_1/terminal?cols=90&rows=20",
      cookie: "better-auth.session_token=abc.def",
      origin: "http://localhost:33001",
    });
    socket.send(Buffer.from([0x03, 0x68, 0x69]), { binary: true });
    expect([...(await nextMessage(socket))]).toEqual([0x03, 0x68, 0x69]);
    socket.close();
  });

  it("hands the API's refusal of an upgrade back as it is", async () => {
    const socket = connect("/rpc/box/box_refused/terminal");
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      socket.once("open", () => resolve(undefined));
      socket.once("error", () => resolve(undefined));
    });
    expect(status).toBe(403);
  });
});
