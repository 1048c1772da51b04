import { randomBytes } from "node:crypto";
import { box } from "@vps-claude/db";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import WebSocket from "ws";
import { type TestClient, type TestServer, waitFor } from "./harness";

/**
 * A box of `client`'s that is `running` on a real sprites-local sandbox, without the deploy
 * pipeline: the terminal needs a sprite to exec in, not box-agent. No worker runs, so the deploy
 * the API queued never starts and the row keeps what is set here.
 */
export async function runningBox(
  server: TestServer,
  client: TestClient,
  name = "Terminal",
): Promise<{ boxId: string; spriteName: string }> {
  const created = await client.post("/rpc/box", { name });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const boxId = String(created.body.id);
  const spriteName = `${server.config.SPRITE_NAME_PREFIX}tty-${randomBytes(3).toString("hex")}`;
  await server.deps.sprites.createOrGetSprite(spriteName);
  await server.deps.db.update(box).set({ status: "running", spriteName }).where(eq(box.id, boxId));
  return { boxId, spriteName };
}

export interface TerminalOptions {
  /** Defaults to the dashboard's origin (PUBLIC_URL); null sends none. */
  origin?: string | null;
  /** Defaults to the client's session cookie; null sends none. */
  cookie?: string | null;
  query?: string;
}

/** Opens the terminal socket of `boxId` the way the dashboard does (cookie and Origin), through `baseUrl`. */
export function connectTerminal(
  baseUrl: string,
  client: TestClient,
  boxId: string,
  { origin = client.server.publicUrl, cookie = client.cookieHeader, query = "" }: TerminalOptions = {},
): Terminal {
  const url = `${baseUrl.replace(/^http/, "ws")}/rpc/box/${boxId}/terminal${query}`;
  const headers: Record<string, string> = {};
  if (origin !== null) {
    headers.origin = origin;
  }
  if (cookie !== null) {
    headers.cookie = cookie;
  }
  return new Terminal(new WebSocket(url, { headers }));
}

/** The test's end of a terminal: what it printed so far, and how the socket ended. */
export class Terminal {
  private output = "";
  /** The HTTP status of a refused upgrade, or the close code and reason of an accepted one. */
  readonly ended: Promise<{ status?: number; code?: number; reason?: string }>;
  readonly opened: Promise<boolean>;

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer) => {
      this.output += data.toString("utf8");
    });
    this.ended = new Promise((resolve) => {
      socket.once("unexpected-response", (_request, response) => {
        resolve({ status: response.statusCode });
        response.resume();
        socket.terminate();
      });
      socket.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
    socket.on("error", () => {
      // A refused upgrade is reported through `ended`.
    });
    this.opened = new Promise((resolve) => {
      socket.once("open", () => resolve(true));
      void this.ended.then(() => resolve(false));
    });
  }

  get printed(): string {
    return this.output;
  }

  /** Keystrokes, as xterm.js sends them: binary frames. */
  type(text: string): void {
    this.socket.send(Buffer.from(text, "utf8"), { binary: true });
  }

  resize(cols: number, rows: number): void {
    this.socket.send(JSON.stringify({ type: "resize", cols, rows }));
  }

  /** Waits until the terminal has printed something matching `pattern` after what it printed before `since`. */
  async waitForOutput(pattern: RegExp, since = 0, timeout = 30_000): Promise<string> {
    return waitFor(
      async () => this.output.slice(since),
      (text) => pattern.test(text),
      { timeout, interval: 50, what: `terminal output matching ${pattern}` },
    );
  }

  close(): void {
    this.socket.close(1000, "test done");
  }
}
