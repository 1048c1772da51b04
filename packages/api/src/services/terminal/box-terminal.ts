import type { box } from "@vps-claude/db";
import type { Logger } from "@vps-claude/logger";
import type { TtySession } from "@vps-claude/sprites";
import { z } from "zod";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { getOwnedBox } from "../box/get-owned-box";
import { BOX_HOME } from "../files/box-files";
import type { TerminalSlots } from "./terminal-slots";

type BoxRow = typeof box.$inferSelect;

export interface TerminalLimits {
  /** Largest message the browser may send (a paste arrives as one). */
  maxMessageBytes: number;
  /** A terminal nobody typed into for this long is closed. */
  idleMs: number;
  /** Terminals one box may have open through one API process. */
  perBox: number;
  /** Output queued for a browser that does not read it; past this the terminal closes. */
  maxBacklogBytes: number;
}

export const DEFAULT_TERMINAL_LIMITS: TerminalLimits = {
  maxMessageBytes: 64 * 1024,
  idleMs: 30 * 60_000,
  perBox: 4,
  maxBacklogBytes: 8 * 1024 * 1024,
};

/**
 * Close codes of the terminal socket, each sent with a reason a person can read. 1000, 1001 and
 * 1011 are the WebSocket standard's; the 4xxx ones are ours, modelled on the matching HTTP status.
 */
export const TERMINAL_CLOSE = {
  ended: 1000,
  serverStopping: 1001,
  badMessage: 1007,
  tooSlow: 1013,
  failed: 1011,
  idle: 4408,
  notRunning: 4409,
  tooMany: 4429,
} as const;

/** The browser's end of the terminal, as the server's WebSocket presents it. */
export interface TerminalPeer {
  send(data: Buffer): void;
  close(code: number, reason: string): void;
  /** Bytes accepted by `send` that have not reached the network yet. */
  readonly bufferedAmount: number;
}

/** An open terminal, fed by the browser's messages until one side hangs up. */
export interface BoxTerminal {
  receive(data: Buffer, isBinary: boolean): void;
  /** The browser went away (or the server is stopping): the shell goes too. */
  hangUp(code: number, reason: string): void;
}

const dimension = z.coerce.number().int().min(1).max(1000);
const terminalSize = z.object({ cols: dimension.default(80), rows: dimension.default(24) });
export type TerminalSize = z.infer<typeof terminalSize>;
const resizeMessage = z.object({ type: z.literal("resize"), cols: dimension, rows: dimension });

/** `?cols=&rows=` of the terminal URL: the size the shell starts at (80×24 when absent). */
export function parseTerminalSize(query: URLSearchParams): TerminalSize {
  const parsed = terminalSize.safeParse({
    cols: query.get("cols") ?? undefined,
    rows: query.get("rows") ?? undefined,
  });
  if (!parsed.success) {
    throw new ServiceError("BAD_REQUEST", "cols and rows must be whole numbers from 1 to 1000");
  }
  return parsed.data;
}

/** The signed-in owner of `boxId`, or the error to answer the upgrade with (401, or 404 for anyone else's box). */
export async function authorizeBoxTerminal({
  deps,
  headers,
  boxId,
}: {
  deps: ApiDeps;
  headers: Headers;
  boxId: string;
}): Promise<{ userId: string; box: BoxRow }> {
  const user = await deps.sessions.resolve(headers);
  if (!user) {
    throw new ServiceError("UNAUTHORIZED", "You are not signed in. Sign in and try again.");
  }
  return { userId: user.id, box: await getOwnedBox({ db: deps.db, userId: user.id, boxId }) };
}

/** A text frame that is a control message; any other text is keystrokes, like binary frames. */
function controlMessage(data: Buffer): { type?: unknown } | null {
  if (data[0] !== 0x7b) {
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(data.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && "type" in parsed ? parsed : null;
  } catch {
    return null;
  }
}

function bridge({
  tty,
  peer,
  limits,
  logger,
  release,
}: {
  tty: TtySession;
  peer: TerminalPeer;
  limits: TerminalLimits;
  logger: Logger;
  release: () => void;
}): BoxTerminal {
  const openedAt = Date.now();
  let open = true;
  let idle: NodeJS.Timeout | undefined;

  const end = (code: number, reason: string, by: "box" | "browser" | "server") => {
    if (!open) {
      return;
    }
    open = false;
    clearTimeout(idle);
    release();
    tty.close();
    peer.close(code, reason);
    logger.info({ code, reason, by, durationMs: Date.now() - openedAt }, "terminal closed");
  };
  const minutes = Math.round(limits.idleMs / 60_000);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => end(TERMINAL_CLOSE.idle, `closed after ${minutes} minutes without input`, "server"),
      limits.idleMs,
    );
  };
  touch();

  tty.onOutput((chunk) => {
    if (!open) {
      return;
    }
    if (peer.bufferedAmount > limits.maxBacklogBytes) {
      end(
        TERMINAL_CLOSE.tooSlow,
        "the terminal printed faster than the browser could read; reconnect",
        "server",
      );
      return;
    }
    peer.send(chunk);
  });
  void tty.ended.then(({ exitCode }) =>
    end(
      TERMINAL_CLOSE.ended,
      exitCode === 0 ? "the shell exited" : `the shell ended (code ${exitCode})`,
      "box",
    ),
  );

  return {
    receive(data, isBinary) {
      if (!open) {
        return;
      }
      touch();
      const control = isBinary ? null : controlMessage(data);
      if (control?.type !== "resize") {
        tty.write(data);
        return;
      }
      const resize = resizeMessage.safeParse(control);
      if (!resize.success) {
        end(TERMINAL_CLOSE.badMessage, "resize needs whole-number cols and rows from 1 to 1000", "server");
        return;
      }
      tty.resize(resize.data.cols, resize.data.rows);
    },
    hangUp(code, reason) {
      end(code, reason, code === TERMINAL_CLOSE.serverStopping ? "server" : "browser");
    },
  };
}

/**
 * Opens a login shell in the box on a TTY of `size` and connects it to `peer`. When it cannot
 * (the box is not running, it has all its terminals open, the sandbox refused), `peer` is closed
 * with the reason and the result is null.
 */
export async function openBoxTerminal({
  deps,
  target,
  peer,
  size,
  slots,
  limits,
  logger,
}: {
  deps: ApiDeps;
  target: BoxRow;
  peer: TerminalPeer;
  size: TerminalSize;
  slots: TerminalSlots;
  limits: TerminalLimits;
  logger: Logger;
}): Promise<BoxTerminal | null> {
  if (target.status !== "running" || !target.spriteName) {
    peer.close(
      TERMINAL_CLOSE.notRunning,
      `the box is ${target.status}; its terminal opens once it is running`,
    );
    return null;
  }
  const release = slots.take(target.id);
  if (!release) {
    peer.close(
      TERMINAL_CLOSE.tooMany,
      `this box has ${slots.perBox} terminals open already; close one, then reconnect`,
    );
    return null;
  }
  let tty: TtySession;
  try {
    tty = await deps.sprites.openTty(target.spriteName, { cwd: BOX_HOME, ...size });
  } catch (err) {
    release();
    logger.warn({ err }, "terminal could not be opened");
    peer.close(TERMINAL_CLOSE.failed, "could not start a shell in the box; try again");
    return null;
  }
  logger.info({ cols: size.cols, rows: size.rows }, "terminal opened");
  return bridge({ tty, peer, limits, logger, release });
}
