import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("../../../../apps/sprites-local/src/main.ts", import.meta.url));

/** What the platform harness needs of a sprites-local host, in this process or its own. */
export interface RunningSprites {
  url: string;
  sandboxMode: string;
  close(): Promise<void>;
}

/**
 * sprites-local as its own process, the way `npm start` runs it, so sandbox spawning and the URL
 * proxy do not share the measured platform's event loop.
 */
export async function startSpritesLocalProcess(options: {
  /** The platform's SERVER_URL, which boxes reach from their own network namespaces. */
  platformUrl: string;
  dataDir: string;
  token: string;
  idleMs: number;
  readOnlyBinds: string[];
}): Promise<RunningSprites> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Next's types (the browser test compiles this file) make NODE_ENV a required key; unset is skipped.
      NODE_ENV: process.env.NODE_ENV,
      SPRITES_LOCAL_PORT: "0",
      SPRITES_LOCAL_PLATFORM_URL: options.platformUrl,
      SPRITES_LOCAL_TOKEN: options.token,
      SPRITES_LOCAL_DATA: options.dataDir,
      SPRITES_LOCAL_IDLE_MS: String(options.idleMs),
      SPRITES_LOCAL_RO_BINDS: options.readOnlyBinds.join(":"),
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<{ url: string; sandbox: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("sprites-local did not start within 30 s")), 30_000);
    child.once("exit", (code) =>
      reject(new Error(`sprites-local exited with code ${code} before listening`)),
    );
    if (!child.stdout) {
      reject(new Error("sprites-local has no stdout"));
      return;
    }
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; sandbox?: string };
        if (entry.msg === "sprites-local listening" && entry.url) {
          clearTimeout(timer);
          resolve({ url: entry.url, sandbox: entry.sandbox ?? "unknown" });
        }
      } catch {
        // Not a log line of ours.
      }
    });
  });
  return {
    url: ready.url,
    sandboxMode: ready.sandbox,
    async close() {
      child.kill("SIGTERM");
      const timeout = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
