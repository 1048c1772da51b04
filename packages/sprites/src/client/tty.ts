import type { SpriteCommand } from "@fly/sprites";
import { toSpritesError } from "../errors.js";
import type { ClientContext } from "./context.js";

export interface TtyOptions {
  /** Where the shell starts (the box's home). */
  cwd: string;
  cols: number;
  rows: number;
}

/** An interactive login shell on a pseudo-terminal in a sprite: raw bytes both ways. */
export interface TtySession {
  /** Keystrokes, as the terminal sends them (Ctrl-C is the byte 0x03). */
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Calls `listener` with each chunk the terminal prints. */
  onOutput(listener: (chunk: Buffer) => void): void;
  /** Hangs up: SIGHUP to the shell and the connection closed, so nothing of it keeps running. */
  close(): void;
  /** Settles once the shell exited or its connection closed; the code is 0 only for a clean exit. */
  readonly ended: Promise<{ exitCode: number }>;
}

export interface TtyOperations {
  /** Starts `bash -l` on a TTY of `cols`×`rows` as the sprite's own user, in `cwd`. */
  openTty(name: string, options: TtyOptions): Promise<TtySession>;
}

/**
 * What @fly/sprites 0.1.0 keeps private on a command but a terminal needs. Its socket drops any
 * connection that received nothing for 45 s, and a shell waiting at its prompt prints nothing
 * (fixed upstream by removing that timer, superfly/sprites-js#20); and it cannot close a command's
 * connection without the command's help, which a shell that ignores SIGHUP would never give.
 * Looked up rather than assumed, so a newer SDK without them still works.
 */
interface CommandInternals {
  wsCmd?: { stopKeepalive?: () => void; close?: () => void };
}

const internalsOf = (command: SpriteCommand) => (command as unknown as CommandInternals).wsCmd;

function started(command: SpriteCommand, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(toSpritesError(error, operation));
    command.once("error", fail);
    command.once("spawn", () => {
      command.off("error", fail);
      resolve();
    });
  });
}

export function ttyOperations(ctx: ClientContext): TtyOperations {
  const { sdk, retried } = ctx;

  async function openOnce(name: string, { cwd, cols, rows }: TtyOptions): Promise<TtySession> {
    const command = sdk.sprite(name).spawn("bash", ["-l"], { tty: true, cols, rows, cwd });
    // Both settle on whatever ends the command; listening now means neither is ever unhandled.
    const ended = new Promise<{ exitCode: number }>((resolve) => {
      command.once("exit", (exitCode: number) => resolve({ exitCode }));
    });
    await started(command, `opening a terminal on sprite '${name}'`);
    // A late socket error is followed by the close that ends the session; it needs no handling of its own.
    command.on("error", () => {});
    internalsOf(command)?.stopKeepalive?.();
    return {
      write: (data) => command.stdin.write(data),
      resize: (newCols, newRows) => command.resize(newCols, newRows),
      onOutput: (listener) => command.stdout.on("data", listener),
      close() {
        command.kill("SIGHUP");
        internalsOf(command)?.close?.();
      },
      ended,
    };
  }

  return {
    openTty(name, options) {
      // Retried only while nothing ran: a refused or failed connection, never a started shell.
      return retried(`opening a terminal on sprite '${name}'`, () => openOnce(name, options));
    },
  };
}
