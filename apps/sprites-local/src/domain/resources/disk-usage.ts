import { spawn } from "node:child_process";

const DU_TIMEOUT_MS = 60_000;

/**
 * Bytes of disk the directories occupy (allocated blocks, so sparse files count for what they really use).
 * `du` runs as a child process: a sprite with millions of files slows its own scan, never the event loop.
 */
export function measureDiskUsage(dirs: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("nice", ["-n", "10", "du", "-s", "-x", "-B1", "--total", "--", ...dirs], {
      stdio: ["ignore", "pipe", "ignore"],
      timeout: DU_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out = (out + chunk).slice(-4096);
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      // du exits 1 when a file vanished mid-scan; its total is still right for what it saw.
      const total = /(\d+)\s+total\s*$/.exec(out);
      if (total?.[1] !== undefined) {
        resolve(Number(total[1]));
        return;
      }
      reject(new Error(`du failed (${signal ?? `exit ${code}`})`));
    });
  });
}
