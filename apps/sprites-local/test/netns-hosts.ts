import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import readline from "node:readline";

/**
 * A test host that exists only inside a network namespace this test creates: an HTTP server on
 * port 80 at `address`, reached from this host over a veth pair (no address on our side, one /32
 * route), so traffic to it never leaves the machine. `close()` removes the namespace, the pair and
 * the route; `cleanupAll()` does so for every one still there (afterAll, and process exit).
 */
export interface NetnsHost {
  address: string;
  /** Request paths the server saw, oldest first. */
  readonly requests: string[];
  close(): void;
}

const created = new Set<{ netns: string; veth: string }>();

function ip(args: string[], allowFailure = false): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`ip ${args.join(" ")} failed: ${result.stderr.trim()}`);
  }
}

function remove(entry: { netns: string; veth: string }): void {
  // Deleting the namespace destroys its end of the pair, which destroys ours and our route.
  ip(["netns", "del", entry.netns], true);
  ip(["link", "del", entry.veth], true);
  created.delete(entry);
}

export function cleanupAll(): void {
  for (const entry of [...created]) {
    remove(entry);
  }
}
process.once("exit", cleanupAll);

const SERVER = `
const http = require("node:http");
http.createServer((req, res) => {
  process.stdout.write(JSON.stringify({ path: req.url }) + "\\n");
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello from " + process.argv[1] + "\\n");
}).listen(80, process.argv[1], () => process.stdout.write(JSON.stringify({ ready: true }) + "\\n"));
`;

export async function startNetnsHost(address: string): Promise<NetnsHost> {
  const id = randomBytes(3).toString("hex");
  const entry = { netns: `slt-${id}`, veth: `slh${id}` };
  const peer = `sln${id}`;
  created.add(entry);
  let server: ChildProcess | undefined;
  try {
    ip(["netns", "add", entry.netns]);
    ip(["link", "add", entry.veth, "type", "veth", "peer", "name", peer]);
    ip(["link", "set", peer, "netns", entry.netns]);
    ip(["link", "set", entry.veth, "up"]);
    ip(["route", "add", `${address}/32`, "dev", entry.veth]);
    ip(["-n", entry.netns, "link", "set", "lo", "up"]);
    ip(["-n", entry.netns, "addr", "add", `${address}/32`, "dev", peer]);
    ip(["-n", entry.netns, "link", "set", peer, "up"]);
    ip(["-n", entry.netns, "route", "add", "default", "dev", peer]);
    const child = spawn("ip", ["netns", "exec", entry.netns, process.execPath, "-e", SERVER, address], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    server = child;
    const requests: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`test host ${address} did not start`)), 10_000);
      readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        const message = JSON.parse(line) as { ready?: boolean; path?: string };
        if (message.ready) {
          clearTimeout(timer);
          resolve();
        } else if (message.path) {
          requests.push(message.path);
        }
      });
      child.once("exit", (code) => reject(new Error(`test host ${address} exited (${code})`)));
    });
    return {
      address,
      requests,
      close() {
        child.kill("SIGKILL");
        remove(entry);
      },
    };
  } catch (error) {
    server?.kill("SIGKILL");
    remove(entry);
    throw error;
  }
}
