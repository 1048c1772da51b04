import { randomUUID } from "node:crypto";
import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import {
  type ApiDeps,
  type ApiErrorCode,
  apiErrorBody,
  authorizeBoxTerminal,
  DEFAULT_TERMINAL_LIMITS,
  openBoxTerminal,
  parseTerminalSize,
  ServiceError,
  TERMINAL_CLOSE,
  type TerminalLimits,
  TerminalSlots,
} from "@vps-claude/api";
import { type WebSocket, WebSocketServer } from "ws";
import type { WebEdgeConfig } from "../web-edge";

const TERMINAL_PATH = /^\/rpc\/box\/([^/]+)\/terminal\/?$/;

export interface TerminalRoute {
  /** The HTTP server's `upgrade` listener: `GET /rpc/box/{boxId}/terminal`, every other upgrade is 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every open terminal (1001: reconnect). */
  close(): void;
}

/** The refusal of an upgrade, in the API's error body; the browser's WebSocket only sees it fail. */
function refuse(socket: Duplex, code: ApiErrorCode, message: string): void {
  const answer = apiErrorBody(code, message);
  const body = JSON.stringify(answer);
  const { status } = answer;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      headers.append(name, item);
    }
  }
  return headers;
}

/**
 * The browser terminal: a WebSocket bridged to a login shell in the box. Everything that decides
 * who may attach happens before the upgrade, so a refusal is a plain HTTP answer. A browser sends
 * the session cookie on a cross-site WebSocket too, and no CORS stops it, so the Origin must be the
 * dashboard's own (cross-site WebSocket hijacking).
 */
export function createTerminalRoute({
  deps,
  edge,
  limits = DEFAULT_TERMINAL_LIMITS,
}: {
  deps: ApiDeps;
  edge: WebEdgeConfig;
  limits?: TerminalLimits;
}): TerminalRoute {
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes });
  const slots = new TerminalSlots(limits.perBox);
  const dashboardOrigins = new Set(
    [edge.PUBLIC_URL, ...edge.TRUSTED_ORIGINS].map((value) => new URL(value).origin),
  );

  function attach(ws: WebSocket, start: Parameters<typeof openBoxTerminal>[0]) {
    // Nothing is read until the shell exists: early keystrokes wait in the socket, not in memory.
    ws.pause();
    ws.on("error", () => {
      // A protocol violation (an over-size message among them) is answered by ws with its close code.
    });
    void openBoxTerminal(start).then((terminal) => {
      if (terminal) {
        ws.on("message", (data: Buffer, isBinary: boolean) => terminal.receive(data, isBinary));
        ws.on("close", (code: number, reason: Buffer) => terminal.hangUp(code, reason.toString()));
        if (ws.readyState !== ws.OPEN) {
          terminal.hangUp(TERMINAL_CLOSE.ended, "the browser left before the shell started");
        }
      }
      // Reading again lets the queued keystrokes through, or a refusal's closing handshake finish.
      ws.resume();
    });
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const boxId = TERMINAL_PATH.exec(url.pathname)?.[1];
    if (!boxId || req.method !== "GET") {
      refuse(socket, "NOT_FOUND", `No WebSocket endpoint at ${req.method} ${url.pathname}`);
      return;
    }
    const origin = req.headers.origin;
    if (!origin || !dashboardOrigins.has(origin)) {
      refuse(
        socket,
        "FORBIDDEN",
        `terminal refused: Origin '${origin ?? "none"}' is not the dashboard's (${[...dashboardOrigins].join(", ")}); open the terminal from the dashboard`,
      );
      return;
    }
    const { userId, box } = await authorizeBoxTerminal({
      deps,
      headers: toHeaders(req.headers),
      boxId: decodeURIComponent(boxId),
    });
    const size = parseTerminalSize(url.searchParams);
    const logger = deps.logger.child({ requestId: randomUUID(), userId, boxId: box.id, terminal: true });
    wss.handleUpgrade(req, socket, head, (ws) =>
      attach(ws, { deps, target: box, peer: ws, size, slots, limits, logger }),
    );
  }

  return {
    handleUpgrade(req, socket, head) {
      socket.on("error", () => {
        // The client vanished mid-handshake; there is nobody left to answer.
      });
      upgrade(req, socket, head).catch((err: unknown) => {
        if (err instanceof ServiceError) {
          refuse(socket, err.code, err.message);
          return;
        }
        deps.logger.error({ err }, "terminal upgrade failed");
        refuse(socket, "INTERNAL_SERVER_ERROR", "Something went wrong on our side. Try again.");
      });
    },
    close() {
      for (const client of wss.clients) {
        client.close(TERMINAL_CLOSE.serverStopping, "the server is restarting; reconnect in a moment");
      }
      wss.close();
    },
  };
}
