import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Sprite } from "@fly/sprites";
import { type FakeDns, startFakeDns } from "@vps-claude/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, runScript as run, startHost, type TestHost } from "./helpers.js";
import { cleanupAll, type NetnsHost, startNetnsHost } from "./netns-hosts.js";

/**
 * A sprite is hostile: from inside one, nothing of the host or of other sprites is reachable
 * except the platform URL and the egress proxy, which refuses private and local destinations.
 * Every destination here is loopback or a test host in a namespace this file creates.
 */

let host: TestHost;
let platform: http.Server;
let platformPort: number;
let dns: FakeDns;
let metadataHost: NetnsHost;
let privateHost: NetnsHost;
let publicHost: NetnsHost;
let spriteA: Sprite;
let spriteB: Sprite;
let bPort: number;

/** "open" or "closed <code>" for a TCP connection from inside the sprite. */
async function tcpFrom(sprite: Sprite, address: string, port: number): Promise<string> {
  const script = `node -e 'const s=require("net").connect(${port},"${address}");s.setTimeout(5000,()=>{console.log("closed timeout");process.exit(0)});s.on("connect",()=>{console.log("open");process.exit(0)});s.on("error",e=>{console.log("closed "+e.code);process.exit(0)})'`;
  return (await run(sprite, script)).out.trim();
}

/** curl from inside the sprite, with whatever proxy variables the sprite has. Body, then the status. */
async function curlFrom(
  sprite: Sprite,
  args: string,
): Promise<{ status: string; body: string; code: number }> {
  const result = await run(sprite, `curl -sS --max-time 15 -w '\\n%{http_code}' ${args}`);
  const lines = result.out.trimEnd().split("\n");
  const status = lines.pop() ?? "";
  return { status, body: lines.join("\n").trim(), code: result.code };
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _event of stream) {
    // Only the end of the start-up window matters.
  }
}

async function setPolicy(name: string, body: unknown): Promise<Response> {
  return fetch(`${host.local.url}/v1/sprites/${name}/policy/network`, {
    method: "POST",
    headers: { authorization: `Bearer ${host.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  platform = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`platform saw ${req.url} from ${req.socket.remoteAddress}`);
  });
  await new Promise<void>((resolve) => platform.listen(0, "127.0.0.1", () => resolve()));
  platformPort = (platform.address() as AddressInfo).port;
  dns = await startFakeDns();
  try {
    metadataHost = await startNetnsHost("169.254.169.254");
    privateHost = await startNetnsHost("10.231.0.2");
    publicHost = await startNetnsHost("198.51.100.2");
  } catch (error) {
    cleanupAll();
    throw error;
  }
  dns.set("allowed.example", "A", ["198.51.100.2"]);
  dns.set("other.example", "A", ["198.51.100.2"]);
  dns.set("metadata.example", "A", ["169.254.169.254"]);
  host = await startHost({ platformUrl: `http://127.0.0.1:${platformPort}`, dnsServers: [dns.server] });
  spriteA = await host.client.createSprite("net-a");
  spriteB = await host.client.createSprite("net-b");
  bPort = await freePort();
  await drain(
    await spriteB.createService(
      "agent",
      {
        cmd: "node",
        args: ["-e", `require("http").createServer((q,s)=>s.end("b-agent")).listen(${bPort},"127.0.0.1")`],
        httpPort: bPort,
      },
      "0s",
    ),
  );
}, 60_000);

afterAll(async () => {
  await host?.close();
  await new Promise<void>((resolve) => platform?.close(() => resolve()));
  await dns?.close();
  metadataHost?.close();
  privateHost?.close();
  publicHost?.close();
  cleanupAll();
});

describe("a sprite's network", () => {
  it("is its own namespace, and sprites-local reports full confinement", async () => {
    expect(host.local.networkMode, "run the tests as root with util-linux (unshare, nsenter)").toBe("netns");
    const res = await fetch(`${host.local.url}/v1/local/confinement`, {
      headers: { authorization: `Bearer ${host.token}` },
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ filesystem: "bwrap", uid: "per-sprite", network: "netns", confined: true });
    const anonymous = await fetch(`${host.local.url}/v1/local/confinement`);
    expect(anonymous.status).toBe(401);
  });

  it("reaches its own services on its loopback, across execs", async () => {
    await eventually(
      "b's service to listen",
      async () => (await tcpFrom(spriteB, "127.0.0.1", bPort)) === "open",
    );
    const own = await run(spriteB, `curl -sS --max-time 5 http://127.0.0.1:${bPort}/`);
    expect(own).toEqual({ code: 0, out: "b-agent" });
  });

  it("cannot reach host Postgres, Redis, sprites-local's API or URL port, or another sprite's port", async () => {
    for (const port of [5432, 6379, host.local.port, host.local.proxyPort, bPort]) {
      const result = await tcpFrom(spriteA, "127.0.0.1", port);
      expect(result, `127.0.0.1:${port} from sprite A`).toMatch(/^closed/);
    }
    const v6 = await tcpFrom(spriteA, "::1", 5432);
    expect(v6).toMatch(/^closed/);
  });

  it("reaches the platform at its URL, and nothing else of the host", async () => {
    const result = await run(spriteA, `curl -sS --max-time 10 http://127.0.0.1:${platformPort}/box/health`);
    // From 127.0.0.2, so a platform that trusts 127.0.0.1 as a proxy never takes a box for one.
    expect(result).toEqual({ code: 0, out: "platform saw /box/health from 127.0.0.2" });
  });

  it("has no route out except the egress proxy", async () => {
    const direct = await run(spriteA, "curl -sS --noproxy '*' --max-time 5 http://198.51.100.2/");
    expect(direct.code).not.toBe(0);
    expect(publicHost.requests).not.toContain("/direct");
    const env = await run(spriteA, 'echo "$HTTP_PROXY $HTTPS_PROXY $NO_PROXY"');
    expect(env.out.trim()).toBe("http://127.0.0.1:3128 http://127.0.0.1:3128 localhost,127.0.0.1,::1");
  });
});

describe("the egress proxy", () => {
  it("serves a public address, by plain HTTP and through CONNECT", async () => {
    const plain = await curlFrom(spriteA, "http://198.51.100.2/plain");
    expect(plain, JSON.stringify(plain)).toMatchObject({ status: "200", body: "hello from 198.51.100.2" });
    const tunnel = await curlFrom(spriteA, "-p http://198.51.100.2/tunnel");
    expect(tunnel, JSON.stringify(tunnel)).toMatchObject({ status: "200", body: "hello from 198.51.100.2" });
    expect(publicHost.requests).toEqual(expect.arrayContaining(["/plain", "/tunnel"]));
  });

  it("refuses the metadata address and private ranges, naming the reason, without touching them", async () => {
    // Reachable from the host itself: the refusal is the proxy's decision, not a missing route.
    expect((await fetch(`http://${metadataHost.address}/from-host`)).status).toBe(200);
    expect((await fetch(`http://${privateHost.address}/from-host`)).status).toBe(200);

    const metadata = await curlFrom(spriteA, "http://169.254.169.254/latest/meta-data/");
    expect(metadata.status).toBe("403");
    expect(metadata.body).toMatch(/link-local/);
    const metadataTunnel = await curlFrom(spriteA, "-p http://169.254.169.254/tunnel");
    expect(metadataTunnel.code).not.toBe(0);
    const byName = await curlFrom(spriteA, "http://metadata.example/");
    expect(byName.status).toBe("403");
    expect(byName.body).toMatch(/169\.254\.169\.254 is a link-local/);

    const privateRange = await curlFrom(spriteA, "http://10.231.0.2/");
    expect(privateRange.status).toBe("403");
    expect(privateRange.body).toMatch(/RFC 1918/);
    const mapped = await curlFrom(spriteA, "-p 'http://[::ffff:10.231.0.2]/'");
    expect(mapped.code).not.toBe(0);

    for (const target of [
      "http://127.0.0.1:5432/",
      `http://127.0.0.1:${host.local.port}/v1/sprites`,
      "http://[::1]:6379/",
    ]) {
      // NO_PROXY sends loopback straight to the sprite's own loopback; ask the proxy explicitly.
      const loopback = await curlFrom(spriteA, `--noproxy '' '${target}'`);
      expect(loopback.status, target).toBe("403");
      expect(loopback.body, target).toMatch(/loopback/);
    }

    expect(metadataHost.requests).toEqual(["/from-host"]);
    expect(privateHost.requests).toEqual(["/from-host"]);
  });
});

describe("the network policy", () => {
  it("enforces deny * after an allow, by domain, at once", async () => {
    const set = await setPolicy("net-a", {
      rules: [
        { action: "allow", domain: "allowed.example" },
        { action: "allow", domain: "metadata.example" },
        { action: "deny", domain: "*" },
      ],
    });
    expect(set.status, await set.clone().text()).toBe(200);
    const read = await fetch(`${host.local.url}/v1/sprites/net-a/policy/network`, {
      headers: { authorization: `Bearer ${host.token}` },
    });
    expect(await read.json()).toEqual({
      rules: [
        { action: "allow", domain: "allowed.example" },
        { action: "allow", domain: "metadata.example" },
        { action: "deny", domain: "*" },
      ],
    });

    const allowed = await curlFrom(spriteA, "http://allowed.example/by-name");
    expect(allowed, JSON.stringify(allowed)).toMatchObject({
      status: "200",
      body: "hello from 198.51.100.2",
    });
    const allowedTls = await curlFrom(spriteA, "-p http://allowed.example/by-name-tunnel");
    expect(allowedTls.status).toBe("200");

    const other = await curlFrom(spriteA, "http://other.example/denied");
    expect(other.status).toBe("403");
    expect(other.body).toMatch(/denied by sprite 'net-a''s network policy \(rule: deny \*\)/);
    const literal = await curlFrom(spriteA, "http://198.51.100.2/literal");
    expect(literal.status).toBe("403");
    // An allow rule never opens a private destination.
    const metadata = await curlFrom(spriteA, "http://metadata.example/");
    expect(metadata.status).toBe("403");
    expect(metadata.body).toMatch(/link-local/);
    expect(publicHost.requests).not.toContain("/denied");
    expect(publicHost.requests).not.toContain("/literal");

    // Sprite B has no policy: the same name is open to it.
    const fromB = await curlFrom(spriteB, "http://other.example/from-b");
    expect(fromB.status).toBe("200");

    const reset = await setPolicy("net-a", { rules: [] });
    expect(reset.status).toBe(200);
    expect((await curlFrom(spriteA, "http://other.example/after-reset")).status).toBe("200");
  });

  it("answers 400 on a bad body and 404 for an unknown sprite", async () => {
    const cases: unknown[] = [
      [],
      { rules: "deny all" },
      { rules: [{ action: "block", domain: "x.com" }] },
      { rules: [{ action: "allow", domain: "https://x.com/" }] },
      { rules: [{ action: "allow", domain: "*.*" }] },
      { rules: [{ include: "github" }] },
    ];
    for (const body of cases) {
      const res = await setPolicy("net-a", body);
      const text = await res.text();
      expect(res.status, `${JSON.stringify(body)} → ${text}`).toBe(400);
      expect(JSON.parse(text)).toMatchObject({ error: "invalid_request" });
    }
    const missing = await setPolicy("no-such-sprite", { rules: [] });
    expect(missing.status).toBe(404);
  });
});
