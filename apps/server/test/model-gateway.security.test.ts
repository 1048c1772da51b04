import { box as boxTable, modelRequest } from "@vps-claude/db";
import { anthropicReply, type FakeAnthropic, scriptedClaude, startFakeAnthropic } from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * Issue 7, item 5 on the real stack: a box deployed into sprites-local runs the real Claude CLI,
 * which reaches the (fake) Anthropic API only through the model gateway. The owner's key and the
 * platform's key are used upstream, and neither is anywhere the box can read: files, the env of
 * box-agent and Claude, `/proc/*\/environ` and `cmdline`.
 */
const PLATFORM_KEY = "sk-ant-platform-Zq8w1Kp3Lm5Nr7Tv";
const OWNER_KEY = "sk-ant-owner-Yx2c4Vb6Nm8Qw0Er";
const USAGE = { input_tokens: 1234, output_tokens: 56 };

/**
 * Prints `FOUND <label> <path>` for each readable file holding a secret. A secret is given in two
 * halves and joined by printf (a builtin) into grep's stdin, so the scan itself never puts the
 * whole value in a command line or an environment where it would find it.
 */
function scanScript(secrets: Record<string, string>): string {
  const lines = [
    "scan() {",
    `  printf '%s%s\\n' "$2" "$3" | grep -rlsF -f - "$HOME" /tmp /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | sed "s|^|FOUND $1 |"`,
    "}",
  ];
  for (const [label, secret] of Object.entries(secrets)) {
    const middle = Math.floor(secret.length / 2);
    lines.push(`scan ${label} '${secret.slice(0, middle)}' '${secret.slice(middle)}'`);
  }
  lines.push("echo SCAN-DONE");
  return lines.join("\n");
}

let fake: FakeAnthropic;
let server: TestServer;
let owner: TestClient;
let boxId: string;
let spriteName: string;
let boxToken: string;

function secretsToFind(): Record<string, string> {
  return {
    platform: PLATFORM_KEY,
    owner: OWNER_KEY,
    // The fake's address is the server's upstream; the box must not even know it.
    upstream: fake.url.replace("http://", ""),
    token: boxToken,
  };
}

const script = scriptedClaude({
  rules: [
    {
      when: "SCAN",
      // Built when asked: the secrets to look for exist only once the box is deployed.
      reply: () =>
        anthropicReply.toolUse("Bash", {
          command: scanScript(secretsToFind()),
          description: "look for secrets",
        }),
    },
  ],
  otherwise: ({ prompt }) => anthropicReply.text(`You said: ${prompt}`, USAGE),
  afterTools: (results) => results.map((result) => result.text).join("\n"),
});

async function send(message: string) {
  const res = await owner.post(`/rpc/box/${boxId}/sessions/send`, { contextId: "chat", message });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body)).toBe("completed");
  return res.body as unknown as { runId: string; result: string };
}

async function rowsOfRun(runId: string) {
  return waitFor(
    () => server.deps.db.select().from(modelRequest).where(eq(modelRequest.runId, runId)),
    (rows) => rows.length > 0,
    { timeout: 10_000, what: `model_request rows of run ${runId}` },
  );
}

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond: script });
  server = await startTestServer({
    workers: true,
    sprites: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: PLATFORM_KEY },
    boxAgentEnv: { CLAUDE_CODE_MAX_RETRIES: "0", API_TIMEOUT_MS: "60000" },
  });
  // The gateway reuses a token's lookup for a moment; this file checks a credential change at once.
  server.deps.config.modelGateway.accessCacheMs = 0;
  ({ client: owner } = await signedInClient(server));
  const saved = await owner.post("/rpc/credentials", { key: "ANTHROPIC_API_KEY", value: OWNER_KEY });
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  const created = await owner.post("/rpc/box", { name: "Keyless" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boxId = String(created.body.id);
  const running = await waitFor(
    async () => (await owner.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 120_000, interval: 300, what: "the box to deploy" },
  );
  expect(running.status, JSON.stringify(running)).toBe("running");
  const [row] = await server.deps.db.select().from(boxTable).where(eq(boxTable.id, boxId));
  spriteName = String(row?.spriteName);
  const { getBoxToken } = await import("@vps-claude/api");
  boxToken = String(await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId }));
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe("the model key never enters the box", () => {
  it("answers a chat message through the gateway with the owner's key, metered per run", async () => {
    fake.clearRequests();
    const outcome = await send("hello gateway");
    expect(outcome.result).toBe("You said: hello gateway");

    const requests = fake.messageRequests();
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request.headers["x-api-key"]).toBe(OWNER_KEY);
      expect(JSON.stringify(request.headers)).not.toContain(boxToken);
      expect(request.headers["x-vps-run-id"]).toBeUndefined();
    }
    const rows = await rowsOfRun(outcome.runId);
    expect(rows.length).toBe(requests.length);
    expect(rows.at(-1)).toMatchObject({
      boxId,
      boxName: "Keyless",
      path: "/v1/messages",
      streamed: true,
      keySource: "user",
      status: 200,
      inputTokens: USAGE.input_tokens,
      outputTokens: USAGE.output_tokens,
      errorMessage: null,
    });
  });

  it("leaves no key in the box's config: only the box token and the gateway URL", async () => {
    const config = await server.deps.sprites.exec(spriteName, "cat ~/.box-agent/config.json");
    const parsed = JSON.parse(config.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(["boxId", "boxSecret", "host", "port", "serverUrl"]);
    expect(parsed.serverUrl).toBe(server.url);
    const env = await server.deps.sprites.exec(spriteName, "cat ~/.box-agent/env.json");
    expect(env.stdout).not.toMatch(/ANTHROPIC/);
  });

  // It starts processes (a worker, a Claude CLI) whose start-up alone takes seconds on a busy 2-core machine.
  it("finds neither key in files, env or /proc, read through the SDK's exec and by Claude's own Bash", async () => {
    // The scan reads every file the box can see; sandboxes yield the CPU to the host, so in a busy
    // suite it can take a minute.
    const fromExec = await server.deps.sprites.exec(spriteName, scanScript(secretsToFind()), {
      timeoutMs: 90_000,
    });
    expect(fromExec.stdout, fromExec.stderr).toContain("SCAN-DONE");
    expect(fromExec.stdout).not.toMatch(/FOUND (platform|owner|upstream) /);
    // The scan does see secrets where they are: the box token is in box-agent's config.
    expect(fromExec.stdout).toMatch(/FOUND token \S+\/\.box-agent\/config\.json/);

    // From inside Claude's own process tree, while a run is going: its environment holds the box
    // token as its API key (proof that the scan reads it), and nothing else.
    const fromClaude = await send("SCAN the box");
    expect(fromClaude.result).toContain("SCAN-DONE");
    expect(fromClaude.result).not.toMatch(/FOUND (platform|owner|upstream) /);
    expect(fromClaude.result).toMatch(/FOUND token \/proc\/\d+\/environ/);
  }, 240_000);

  it("falls back to the platform's key once the owner removes theirs, without a redeploy", async () => {
    expect((await owner.delete("/rpc/credentials/ANTHROPIC_API_KEY")).status).toBe(200);
    fake.clearRequests();
    const outcome = await send("and now?");
    expect(outcome.result).toBe("You said: and now?");
    for (const request of fake.messageRequests()) {
      expect(request.headers["x-api-key"]).toBe(PLATFORM_KEY);
    }
    const rows = await rowsOfRun(outcome.runId);
    expect(rows.every((row) => row.keySource === "platform")).toBe(true);
  });
});
