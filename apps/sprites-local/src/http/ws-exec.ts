import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { ApiError } from "../domain/errors.js";
import { type ExecParams, ExecSession, normalizeSignal, parseExecParams, StreamId } from "../domain/exec.js";
import type { ManagedSprite } from "../domain/managed-sprite.js";
import { bearerMatches } from "./auth.js";
import type { AppContext } from "./context.js";
import { rejectUpgrade } from "./errors.js";

const EXEC_PATH = /^\/v1\/sprites\/([^/]+)\/exec\/?$/;
/** Stop reading the command's output while this much is queued for a slow client. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Handles `GET /v1/sprites/{name}/exec` upgrades; returns false when the request is not an exec upgrade. */
export function handleExecUpgrade(
  ctx: AppContext,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (!url.pathname.startsWith("/v1/")) {
    return false;
  }
  if (!bearerMatches(req.headers.authorization, ctx.token)) {
    rejectUpgrade(
      socket,
      new ApiError("unauthorized", "missing or invalid API token (send Authorization: Bearer <token>)"),
    );
    return true;
  }
  const match = EXEC_PATH.exec(url.pathname);
  if (!match?.[1]) {
    rejectUpgrade(socket, new ApiError("not_found", `no WebSocket endpoint at ${url.pathname}`));
    return true;
  }
  const sprite = ctx.registry.find(decodeURIComponent(match[1]));
  if (!sprite) {
    rejectUpgrade(socket, new ApiError("not_found", `sprite '${decodeURIComponent(match[1])}' not found`));
    return true;
  }
  let params: ExecParams;
  try {
    params = parseExecParams(url);
  } catch (error) {
    rejectUpgrade(
      socket,
      error instanceof ApiError ? error : new ApiError("invalid_request", "bad exec request"),
    );
    return true;
  }
  wss.handleUpgrade(req, socket, head, (ws) => void runExec(ctx, sprite, params, ws));
  return true;
}

async function runExec(
  ctx: AppContext,
  sprite: ManagedSprite,
  params: ExecParams,
  ws: WebSocket,
): Promise<void> {
  const release = sprite.hold();
  let session: ExecSession | null = null;
  // The client may send stdin as soon as the socket opens, before the command exists (waking takes time).
  const early: Array<{ data: Buffer; isBinary: boolean }> = [];
  let clientGone = false;
  const paused = { value: false };

  const handleMessage = (running: ExecSession, data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      let message: { type?: unknown; signal?: unknown; cols?: unknown; rows?: unknown };
      try {
        message = JSON.parse(data.toString("utf8")) as typeof message;
      } catch {
        return;
      }
      if (message.type === "signal") {
        const signal = normalizeSignal(message.signal);
        if (signal) {
          running.signal(signal);
        }
      } else if (
        message.type === "resize" &&
        typeof message.cols === "number" &&
        typeof message.rows === "number"
      ) {
        running.resize(message.cols, message.rows);
      }
      return;
    }
    if (params.tty) {
      running.writeStdin(data);
      return;
    }
    if (data[0] === StreamId.stdin) {
      running.writeStdin(data.subarray(1));
    } else if (data[0] === StreamId.stdinEof) {
      running.endStdin();
    }
  };
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (session) {
      handleMessage(session, data, isBinary);
    } else {
      early.push({ data, isBinary });
    }
  });
  let finished = false;
  ws.on("close", () => {
    clientGone = true;
    if (!finished) {
      // The client went away before the command ended: nothing can read its output any more.
      session?.kill();
    }
  });
  ws.on("error", () => session?.kill());

  const resumeWhenDrained = () => {
    if (session && paused.value && ws.bufferedAmount < HIGH_WATER_BYTES) {
      paused.value = false;
      session.child.stdout?.resume();
      session.child.stderr?.resume();
    }
  };
  try {
    await sprite.wake();
    if (clientGone) {
      release();
      return;
    }
    session = new ExecSession(sprite, params, (stream, data) => {
      if (ws.readyState !== ws.OPEN) {
        return;
      }
      // TTY output is the raw terminal byte stream; otherwise every frame carries its stream id.
      const frame = params.tty ? data : Buffer.concat([Buffer.from([stream]), data]);
      ws.send(frame, { binary: true }, resumeWhenDrained);
      if (session && ws.bufferedAmount > HIGH_WATER_BYTES && !paused.value) {
        paused.value = true;
        session.child.stdout?.pause();
        session.child.stderr?.pause();
      }
    });
  } catch (error) {
    ctx.logger.warn({ err: error, sprite: sprite.name }, "exec failed to start");
    ws.close(1011, error instanceof Error ? error.message.slice(0, 100) : "exec failed");
    release();
    return;
  }
  const running = session;
  for (const message of early.splice(0)) {
    handleMessage(running, message.data, message.isBinary);
  }

  void running.exited.then((code) => {
    finished = true;
    release();
    if (ws.readyState !== ws.OPEN) {
      return;
    }
    if (params.tty) {
      // TTY clients take the exit status from the close code.
      ws.close(code === 0 ? 1000 : 4000 + Math.min(code, 255), `exit ${code}`);
      return;
    }
    ws.send(Buffer.from([StreamId.exit, code & 0xff]), { binary: true }, () => {
      if (ws.readyState === ws.OPEN) {
        ws.close(1000, "");
      }
    });
  });
}
