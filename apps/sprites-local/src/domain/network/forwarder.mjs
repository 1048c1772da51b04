// The one process sprites-local keeps inside a sprite's network namespace (started with
// `unshare --net`, so it also holds the namespace open). It runs as the host's root, outside the
// sprite's filesystem view, and only relays bytes:
//
// - inbound: a Unix socket in a host directory the sprite cannot see. Each connection starts with
//   one line, `connect <port>\n` (then a byte pipe to 127.0.0.1:<port> in the namespace) or
//   `probe <port>\n` (answers `1` when something listens there, else `0`, and closes);
// - outbound: TCP listeners on the namespace's loopback, each relayed to a host Unix socket
//   (the platform at SERVER_URL's port, the egress proxy).
//
// Configuration comes as JSON lines on stdin: `{"listen":[{"port":N,"socket":"/path"}]}` replaces
// the outbound listeners. It prints `{"ready":true}` once the inbound socket listens and again
// after each applied configuration.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import readline from "node:readline";

const inboundSocket = process.argv[2];
if (!inboundSocket) {
  process.stderr.write("usage: forwarder.mjs <inbound-socket>\n");
  process.exit(2);
}

// A fresh namespace has only a loopback interface, and it is down.
for (const ip of ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]) {
  if (fs.existsSync(ip)) {
    execFileSync(ip, ["link", "set", "lo", "up"]);
    break;
  }
}

function pipeBoth(a, b) {
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end);
  b.on("error", end);
  a.on("close", end);
  b.on("close", end);
  a.pipe(b);
  b.pipe(a);
}

function validPort(value) {
  const port = Number(value);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

const inbound = net.createServer((client) => {
  client.on("error", () => client.destroy());
  let header = Buffer.alloc(0);
  const onData = (chunk) => {
    header = Buffer.concat([header, chunk]);
    const newline = header.indexOf(10);
    if (newline < 0) {
      if (header.length > 64) {
        client.destroy();
      }
      return;
    }
    client.off("data", onData);
    client.pause();
    const [verb, rawPort] = header.subarray(0, newline).toString("latin1").split(" ");
    const rest = header.subarray(newline + 1);
    const port = validPort(rawPort);
    if (port === null || (verb !== "connect" && verb !== "probe")) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: "127.0.0.1", port });
    if (verb === "probe") {
      upstream.once("connect", () => {
        upstream.destroy();
        client.end("1");
      });
      upstream.once("error", () => client.end("0"));
      return;
    }
    upstream.once("connect", () => {
      if (rest.length > 0) {
        upstream.write(rest);
      }
      pipeBoth(client, upstream);
      client.resume();
    });
    upstream.once("error", () => client.destroy());
  };
  client.on("data", onData);
});

/** port → servers listening on the namespace's loopback for it (IPv4 and, when possible, IPv6). */
const outbound = new Map();

function listenOutbound(port, socketPath, bound) {
  const servers = [];
  for (const host of ["127.0.0.1", "::1"]) {
    const server = net.createServer((client) => {
      client.on("error", () => client.destroy());
      const upstream = net.connect({ path: socketPath });
      pipeBoth(client, upstream);
    });
    bound.push(
      new Promise((resolve) => {
        server.once("listening", resolve);
        server.once("error", (error) => {
          // No IPv6 loopback is fine; a taken IPv4 port is not.
          if (host === "127.0.0.1") {
            process.stdout.write(`${JSON.stringify({ error: `port ${port}: ${error.message}` })}\n`);
          }
          resolve();
        });
      }),
    );
    server.listen(port, host);
    servers.push(server);
  }
  outbound.set(port, { socketPath, servers });
}

function configure(listen) {
  const bound = [];
  const wanted = new Map(listen.map((entry) => [entry.port, entry.socket]));
  for (const [port, current] of outbound) {
    if (wanted.get(port) !== current.socketPath) {
      for (const server of current.servers) {
        server.close();
      }
      outbound.delete(port);
    }
  }
  for (const [port, socketPath] of wanted) {
    if (!outbound.has(port) && validPort(port) !== null && typeof socketPath === "string") {
      listenOutbound(port, socketPath, bound);
    }
  }
  return Promise.all(bound);
}

fs.rmSync(inboundSocket, { force: true });
inbound.listen(inboundSocket, () => {
  fs.chmodSync(inboundSocket, 0o600);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
});

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  try {
    const message = JSON.parse(line);
    if (Array.isArray(message.listen)) {
      void configure(message.listen).then(() => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
    }
  } catch {
    // Only sprites-local writes here; a malformed line is ignored.
  }
});
// sprites-local gone (stdin closed): nothing left to relay for.
lines.on("close", () => process.exit(0));
