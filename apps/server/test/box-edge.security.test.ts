import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { deliverInboundEmail } from "@vps-claude/api";
import { box, boxEmail } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * The platform → box edge, attacked from a box as its owner could: the owner replaces box-agent in
 * the sprite with a program of their own (through the same Sprites service API the platform uses)
 * and makes it answer redirects into the Sprites API or to a metadata address, endless or non-JSON
 * bodies. Every platform call must fail clearly, naming the box, and reach nothing it pointed at.
 */

/** Answers each path as `plan.json` says, logs what it got, and notes when a streamed answer is cut off. */
const HOSTILE_AGENT = `
const http = require("node:http");
const fs = require("node:fs");
const [port, dir] = process.argv.slice(2);
http.createServer((req, res) => {
  fs.appendFileSync(dir + "/requests.log", JSON.stringify({ method: req.method, url: req.url, headers: req.headers }) + "\\n");
  req.resume();
  let plan = {};
  try { plan = JSON.parse(fs.readFileSync(dir + "/plan.json", "utf8")); } catch {}
  const answer = plan[req.url.split("?")[0]] ?? { status: 404, headers: { "content-type": "application/json" }, body: '{"code":"NOT_FOUND","message":"no plan"}' };
  if (answer.endless) {
    res.writeHead(200, { "content-type": "application/json" });
    res.on("close", () => fs.appendFileSync(dir + "/cut-off.log", "cut off\\n"));
    const chunk = "x".repeat(64 * 1024);
    res.write('{"sessions":"');
    const more = () => { while (!res.destroyed && res.write(chunk)) {} if (!res.destroyed) res.once("drain", more); };
    more();
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? "");
}).listen(Number(port), "127.0.0.1");
`;

/** A run started through the user API, once its follower ended it (a hostile box's dispatch fails it). */
async function endedRun(started: { status: number; body: Record<string, unknown> }) {
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const runId = String(started.body.runId);
  const run = await waitFor(
    async () => (await attacker.get(`/rpc/box/${attackerBox.id}/runs/${runId}`)).body,
    (body) => !["queued", "running"].includes(String(body.status)),
    { timeout: 60_000, interval: 300, what: `run ${runId} to end` },
  );
  return { status: String(run.status), error: String(run.error) };
}

interface Plan {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  endless?: boolean;
}

let server: TestServer;
let attacker: TestClient;
let victimClient: TestClient;
let attackerBox: { id: string; name: string; sprite: string; home: string };
let victimBox: { id: string; sprite: string; home: string };
const victimSecret = `victim-secret-${randomBytes(8).toString("hex")}`;
/** A loopback stand-in for the cloud metadata service: it must never be asked anything. */
let metadata: http.Server;
let metadataUrl: string;
const metadataHits: string[] = [];

async function deployBox(client: TestClient, name: string) {
  const created = await client.post("/rpc/box", { name });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body.id);
  const running = await waitFor(
    async () => (await client.get(`/rpc/box/${id}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 120_000, interval: 300, what: `box ${name} to deploy` },
  );
  expect(running.status, JSON.stringify(running)).toBe("running");
  const [row] = await server.deps.db.select().from(box).where(eq(box.id, id));
  const sprite = String(row?.spriteName);
  const home = (await server.deps.sprites.exec(sprite, 'printf %s "$HOME"')).stdout.trim();
  return { id, name, sprite, home };
}

async function plan(paths: Record<string, Plan>) {
  await server.deps.sprites.writeFile(
    attackerBox.sprite,
    `${attackerBox.home}/plan.json`,
    JSON.stringify(paths),
  );
}

async function readInAttacker(file: string): Promise<string> {
  return (
    await server.deps.sprites
      .readFile(attackerBox.sprite, `${attackerBox.home}/${file}`)
      .catch(() => Buffer.alloc(0))
  ).toString();
}

beforeAll(async () => {
  metadata = http.createServer((req, res) => {
    metadataHits.push(`${req.method} ${req.url}`);
    res.end("role-credentials");
  });
  await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
  metadataUrl = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}`;

  server = await startTestServer({ workers: true, sprites: true });
  ({ client: attacker } = await signedInClient(server));
  ({ client: victimClient } = await signedInClient(server));
  [attackerBox, victimBox] = await Promise.all([
    deployBox(attacker, "Attacker"),
    deployBox(victimClient, "Victim"),
  ]);
  await server.deps.sprites.writeFile(victimBox.sprite, `${victimBox.home}/secret.txt`, victimSecret, 0o600);

  // The owner swaps box-agent for their own program on the same port, as the Sprites API lets them.
  const agent = await server.deps.sprites.getService(attackerBox.sprite, "box-agent");
  const port = agent?.httpPort;
  if (typeof port !== "number") {
    throw new Error(`box-agent's service has no HTTP port: ${JSON.stringify(agent)}`);
  }
  await server.deps.sprites.writeFile(attackerBox.sprite, `${attackerBox.home}/hostile.js`, HOSTILE_AGENT);
  await plan({ "/health": { status: 200, headers: { "content-type": "application/json" }, body: "{}" } });
  await server.deps.sprites.putService(attackerBox.sprite, {
    name: "box-agent",
    cmd: server.deps.runtime.nodeCommand,
    args: [`${attackerBox.home}/hostile.js`, String(port), attackerBox.home],
    dir: attackerBox.home,
    httpPort: port,
  });
  await server.deps.sprites.waitForUrl(attackerBox.sprite, { path: "/health", timeoutMs: 20_000 });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => metadata?.close(() => resolve()) ?? resolve());
});

function expectRefusal(res: { status: number; body: Record<string, unknown> }, ...fragments: string[]) {
  expect(res.status, JSON.stringify(res.body)).toBe(502);
  const message = String(res.body.message);
  expect(message).toContain(attackerBox.id);
  expect(message).toContain("'Attacker'");
  for (const fragment of fragments) {
    expect(message).toContain(fragment);
  }
  expect(JSON.stringify(res.body)).not.toContain(victimSecret);
}

describe("redirects from a box lead nowhere", () => {
  it("refuses a same-origin 307 to another sprite's file read (the owner's sessions list)", async () => {
    const read = `/v1/sprites/${victimBox.sprite}/fs/read?path=${victimBox.home}/secret.txt`;
    await plan({ "/sessions/list": { status: 307, headers: { location: read } } });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "redirect", "307");
    // The same path against the Sprites API's own origin.
    await plan({
      "/sessions/list": { status: 307, headers: { location: `${server.spritesLocal?.url}${read}` } },
    });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "never follows");
  });

  it("refuses a 307 to another sprite's exec (a chat run's dispatch), and nothing runs there", async () => {
    const exec = `/v1/sprites/${victimBox.sprite}/exec?cmd=touch&cmd=${victimBox.home}/pwned`;
    for (const location of [exec, `${server.spritesLocal?.url}${exec}`]) {
      await plan({ "/runs": { status: 307, headers: { location } } });
      const run = await endedRun(
        await attacker.post(`/rpc/box/${attackerBox.id}/runs`, { message: "hello" }),
      );
      expect(run.status).toBe("failed");
      expect(run.error).toContain("redirect");
      expect(run.error).toContain("307");
    }
    const probe = await server.deps.sprites.exec(
      victimBox.sprite,
      `test -e ${victimBox.home}/pwned; echo $?`,
    );
    expect(probe.stdout.trim()).toBe("1");
  });

  it("refuses a cross-origin redirect to a metadata address; the metadata server hears nothing", async () => {
    await plan({
      "/sessions/list": {
        status: 302,
        headers: { location: `${metadataUrl}/latest/meta-data/iam/security-credentials/` },
      },
    });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "302");
    expect(metadataHits).toEqual([]);
  });

  it("refuses a redirect answered to an email delivery; the email is not marked delivered", async () => {
    await plan({
      "/email/receive": { status: 307, headers: { location: `${metadataUrl}/computeMetadata/v1/` } },
    });
    const emailId = newId("email");
    await server.deps.db.insert(boxEmail).values({
      id: emailId,
      boxId: attackerBox.id,
      direction: "inbound",
      status: "received",
      messageId: `<${emailId}@example.com>`,
      threadId: `<${emailId}@example.com>`,
      fromAddress: "sender@example.com",
      toAddresses: ["attacker@agents.localhost"],
      provider: "smtp",
      subject: "hello",
      textBody: "hi",
    });
    const failure = await deliverInboundEmail({
      deps: server.deps,
      emailId,
      attempt: 1,
      isFinalAttempt: false,
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toContain(attackerBox.id);
    expect(String((failure as Error).message)).toContain("redirect");
    const [row] = await server.deps.db.select().from(boxEmail).where(eq(boxEmail.id, emailId));
    expect(row?.status).not.toBe("delivered");
    expect(metadataHits).toEqual([]);
  });
});

describe("a box's answers are bounded and typed", () => {
  it("cuts off an endless answer and refuses it", async () => {
    await plan({ "/sessions/list": { endless: true } });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "more than", "bytes");
    // The platform cancelled its read: the box's side of the stream was closed.
    await waitFor(
      () => readInAttacker("cut-off.log"),
      (log) => log.includes("cut off"),
      { timeout: 20_000, what: "the endless answer to be cut off" },
    );
  });

  it("refuses a non-JSON answer where JSON is expected", async () => {
    await plan({
      "/sessions/list": { status: 200, headers: { "content-type": "text/html" }, body: "<html>hi</html>" },
    });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "text/html", "JSON");
  });

  it("refuses JSON of the wrong shape, and a body that is not JSON at all", async () => {
    await plan({
      "/sessions/list": {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sessions: [{ contextType: "root", contextId: 1 }], extra: victimSecret }),
      },
    });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "wrong shape");
    await plan({
      "/sessions/list": { status: 200, headers: { "content-type": "application/json" }, body: "{not json" },
    });
    expectRefusal(await attacker.get(`/rpc/box/${attackerBox.id}/sessions`), "not valid JSON");
  });

  it("passes a well-formed answer on as the typed result, and box-agent's own refusals as errors", async () => {
    const sessions = [
      {
        contextType: "session",
        contextId: "owner",
        sessionId: null,
        createdAt: null,
        updatedAt: null,
        runs: [],
      },
    ];
    await plan({
      "/sessions/list": {
        status: 200,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ sessions }),
      },
      "/runs": {
        status: 400,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: "BAD_REQUEST", message: "message must not be empty" }),
      },
    });
    const list = await attacker.get(`/rpc/box/${attackerBox.id}/sessions`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body).toEqual({ sessions });
    const refused = await endedRun(await attacker.post(`/rpc/box/${attackerBox.id}/runs`, { message: "x" }));
    expect(refused.status).toBe("failed");
    expect(refused.error).toContain("refused the run (HTTP 400): message must not be empty");
  });
});

describe("the Sprites account token never reaches a sprite", () => {
  it("sends the box token only", async () => {
    const log = await readInAttacker("requests.log");
    const requests = log
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { url: string; headers: Record<string, string> });
    expect(requests.length).toBeGreaterThan(5);
    const accountToken = String(server.config.SPRITES_LOCAL_TOKEN);
    expect(accountToken.length).toBeGreaterThan(10);
    expect(log).not.toContain(accountToken);
    for (const request of requests) {
      expect(request.headers.authorization, request.url).toBeUndefined();
    }
    const platformCalls = requests.filter(
      (request) => request.url.startsWith("/sessions/") || request.url.startsWith("/runs"),
    );
    expect(
      platformCalls.every((request) => /^[0-9a-f]{64}$/.test(request.headers["x-box-secret"] ?? "")),
    ).toBe(true);
  });

  it("keeps the victim's file out of every answer, and unchanged", async () => {
    const content = await server.deps.sprites.readFile(victimBox.sprite, `${victimBox.home}/secret.txt`);
    expect(content.toString()).toBe(victimSecret);
    expect(await readInAttacker("requests.log")).not.toContain(victimSecret);
  });
});
