import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getBoxToken } from "@vps-claude/api";
import { createKeyring, generateEncryptionKey } from "@vps-claude/shared";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer } from "./harness";

const run = promisify(execFile);
const rotateScript = fileURLToPath(new URL("../src/cli/rotate-key.ts", import.meta.url));

let server: TestServer;
let client: TestClient;
let boxId: string;
const CREDENTIAL = "sk-ant-api03-very-secret-credential";
const ENV_SECRET = "ghp_very_secret_env_value_123";
const ENV_PLAIN = "plain-visible-value";

async function raw<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(sql)).rows;
  } finally {
    await db.end();
  }
}

beforeAll(async () => {
  server = await startTestServer();
  ({ client } = await signedInClient(server));
  boxId = String((await client.post("/rpc/box", { name: "Secrets" })).body.id);
  await client.post("/rpc/credentials", { key: "ANTHROPIC_API_KEY", value: CREDENTIAL });
  await client.post(`/rpc/box/${boxId}/env`, { key: "TOKEN", value: ENV_SECRET, type: "secret" });
  await client.post(`/rpc/box/${boxId}/env`, { key: "PLAIN", value: ENV_PLAIN, type: "plain" });
});
afterAll(async () => {
  await server?.close();
});

describe("secrets at rest", () => {
  it("stores credentials, secret env vars and box tokens only as ciphertext", async () => {
    const token = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });
    expect(token).toMatch(/^[0-9a-f]{64}$/);

    const credentials = await raw<{ value: string }>("select value from user_credential");
    const envVars = await raw<{ key: string; value: string }>(
      "select key, value from box_env_var order by key",
    );
    const settings = await raw<{ agent_secret: string; agent_secret_hash: string }>(
      "select agent_secret, agent_secret_hash from box_email_settings",
    );

    expect(credentials[0]?.value).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(credentials[0]?.value).not.toContain("sk-ant");
    expect(envVars.find((row) => row.key === "TOKEN")?.value).toMatch(/^v1\./);
    expect(envVars.find((row) => row.key === "PLAIN")?.value).toBe(ENV_PLAIN);
    expect(settings[0]?.agent_secret).toMatch(/^v1\./);
    expect(settings[0]?.agent_secret).not.toContain(String(token));
    expect(settings[0]?.agent_secret_hash).not.toBe(token);

    const dump = JSON.stringify([credentials, envVars, settings]);
    for (const secret of [CREDENTIAL, ENV_SECRET, String(token)]) {
      expect(dump).not.toContain(secret);
    }
  });

  it("binds each ciphertext to its row: a value copied to another row does not decrypt", async () => {
    await client.post(`/rpc/box/${boxId}/env`, { key: "OTHER", value: "other-secret-value", type: "secret" });
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    await db.query(
      "update box_env_var set value = (select value from box_env_var where key = 'TOKEN') where key = 'OTHER'",
    );
    await db.end();
    const res = await client.get(`/rpc/box/${boxId}/env`);
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain(ENV_SECRET);
    await client.delete(`/rpc/box/${boxId}/env/OTHER`);
  });

  it("never returns a secret through the API", async () => {
    const bodies = JSON.stringify([
      (await client.get("/rpc/credentials")).body,
      (await client.get(`/rpc/box/${boxId}/env`)).body,
      (await client.get(`/rpc/box/${boxId}`)).body,
    ]);
    expect(bodies).not.toContain(CREDENTIAL);
    expect(bodies).not.toContain(ENV_SECRET);
  });

  it("the rotation command re-encrypts everything under a new key", async () => {
    const oldKey = server.config.ENCRYPTION_KEY;
    const newKey = generateEncryptionKey();
    const newKeyId = createKeyring(newKey).current.id;
    const tokenBefore = await getBoxToken({ db: server.deps.db, keyring: server.deps.keyring, boxId });

    const env = {
      ...process.env,
      DATABASE_URL: server.databaseUrl,
      ENCRYPTION_KEY: newKey,
      ENCRYPTION_KEYS_PREVIOUS: oldKey,
    };
    const { stdout } = await run(process.execPath, ["--import", "tsx", rotateScript], { env });
    const report = JSON.parse(stdout.trim());
    expect(report).toMatchObject({
      currentKeyId: newKeyId,
      reencrypted: { user_credential: 1, box_env_var: 1, box_email_settings: 1 },
    });

    const rows = await raw<{ value: string }>(
      "select value from user_credential union all select value from box_env_var where type = 'secret' union all select agent_secret from box_email_settings",
    );
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(row.value.startsWith(`v1.${newKeyId}.`)).toBe(true);
    }

    // The new key alone now decrypts everything; the old one is no longer needed.
    const onlyNew = createKeyring(newKey);
    expect(await getBoxToken({ db: server.deps.db, keyring: onlyNew, boxId })).toBe(tokenBefore);

    const again = JSON.parse(
      (await run(process.execPath, ["--import", "tsx", rotateScript], { env })).stdout.trim(),
    );
    expect(again.reencrypted).toEqual({ user_credential: 0, box_env_var: 0, box_email_settings: 0, box: 0 });
  });
});
