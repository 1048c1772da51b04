import { randomBytes } from "node:crypto";
import { SpritesError, toSpritesError } from "../errors.js";
import { EXEC_PRELUDE, envBlock, stripMarker } from "../exec-script.js";
import type { ClientContext } from "./context.js";

export interface ExecOptions {
  /** Added to the sprite's environment (sent on stdin, never in the URL). */
  env?: Record<string, string>;
  /** The command is killed and the call fails with code "timeout" after this long. Default 10 min. */
  timeoutMs?: number;
  stdin?: string | Buffer;
  cwd?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOperations {
  /** Runs `script` with `bash -lc`; a non-zero exit is a result, not an error. */
  exec(name: string, script: string, options?: ExecOptions): Promise<ExecResult>;
}

const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;

export function execOperations(ctx: ClientContext): ExecOperations {
  const { sdk, keepaliveMs, retried } = ctx;

  function execOnce(name: string, script: string, execOptions: ExecOptions): Promise<ExecResult> {
    const timeoutMs = execOptions.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const marker = `__sprites_keepalive_${randomBytes(8).toString("hex")}__`;
    const intervalSeconds = String(Math.max(1, Math.round(keepaliveMs / 1000)));
    const input = Buffer.concat([
      Buffer.from(envBlock(execOptions.env ?? {}), "utf8"),
      typeof execOptions.stdin === "string"
        ? Buffer.from(execOptions.stdin, "utf8")
        : (execOptions.stdin ?? Buffer.alloc(0)),
    ]);
    const command = sdk
      .sprite(name)
      .spawn("bash", ["-lc", EXEC_PRELUDE, "sprites-exec", script, marker, intervalSeconds], {
        ...(execOptions.cwd !== undefined && { cwd: execOptions.cwd }),
      });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    command.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    command.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // The SDK ends both streams when the exit frame arrives; waiting for that guarantees no output is missed.
    const drained = Promise.all(
      [command.stdout, command.stderr].map(
        (stream) => new Promise<void>((resolve) => stream.once("end", () => resolve())),
      ),
    );
    const collected = () => ({
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: stripMarker(Buffer.concat(stderr).toString("utf8"), marker),
    });

    return new Promise<ExecResult>((resolve, reject) => {
      let started = false;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          outcome();
        }
      };
      const timer = setTimeout(() => {
        command.kill("SIGKILL");
        settle(() =>
          reject(
            new SpritesError("timeout", `command on sprite '${name}' did not finish within ${timeoutMs} ms`, {
              details: collected(),
              retryable: false,
            }),
          ),
        );
      }, timeoutMs);
      command.on("spawn", () => {
        started = true;
        command.stdin.end(input);
      });
      command.on("exit", (code: number) => {
        if (code < 0) {
          settle(() =>
            reject(
              new SpritesError(
                "exec_interrupted",
                `the connection to sprite '${name}' closed before the command finished`,
                { details: collected(), retryable: false },
              ),
            ),
          );
          return;
        }
        settle(() => {
          void drained.then(() => resolve({ exitCode: code, ...collected() }));
        });
      });
      command.on("error", (error: unknown) => {
        if (started) {
          settle(() =>
            reject(
              new SpritesError(
                "exec_interrupted",
                `command on sprite '${name}' lost its connection: ${error instanceof Error ? error.message : String(error)}`,
                { details: collected(), retryable: false, cause: error },
              ),
            ),
          );
          return;
        }
        // Nothing ran yet, so connection failures may be retried.
        const operation = `exec on sprite '${name}'`;
        const failure = toSpritesError(error, operation);
        if (failure.code !== "network") {
          settle(() => reject(failure));
          return;
        }
        // A refused WebSocket upgrade looks like a network failure (the standard WebSocket API hides the
        // HTTP answer): ask the REST API whether the sprite exists and the token is good.
        settle(() => {
          sdk.getSprite(name).then(
            () => reject(failure),
            (restError: unknown) => {
              const precise = toSpritesError(restError, operation);
              const definite = ["not_found", "unauthorized", "forbidden"].includes(precise.code);
              reject(definite ? precise : failure);
            },
          );
        });
      });
    });
  }

  return {
    exec(name, script, execOptions = {}) {
      return retried(`exec on sprite '${name}'`, () => execOnce(name, script, execOptions));
    },
  };
}
