import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AnyContractProcedure, isContractProcedure } from "@orpc/contract";
import { boxAgentContract } from "@vps-claude/contract/box-agent";
import { createLogger } from "@vps-claude/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BoxAgent, createBoxAgent } from "../src/box-agent";
import { loadConfig } from "../src/config";

/** box-agent serves every route of its contract: none of them falls through to "no route". */

const SECRET = "fedcba9876543210".repeat(4);
let home: string;
let agent: BoxAgent;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "box-agent-contract-"));
  const config = loadConfig({
    BOX_AGENT_HOME: home,
    BOX_ID: "box_contract",
    BOX_SECRET: SECRET,
    // Nothing listens there; no request below starts a run.
    SERVER_URL: "http://127.0.0.1:9",
  });
  agent = createBoxAgent({
    config,
    mcpCommand: { command: process.execPath, args: [] },
    logger: createLogger({ name: "box-agent-test", level: "silent" }),
    version: "test",
  });
});

afterAll(async () => {
  await agent.close();
  rmSync(home, { recursive: true, force: true });
});

function procedures(router: object, prefix = ""): Array<[string, AnyContractProcedure]> {
  return Object.entries(router).flatMap(
    ([key, value]): Array<[string, AnyContractProcedure]> =>
      isContractProcedure(value)
        ? [[`${prefix}${key}`, value]]
        : procedures(value as object, `${prefix}${key}.`),
  );
}

const ROUTES = procedures(boxAgentContract).map(([key, procedure]) => {
  const { method = "POST", path = "/" } = procedure["~orpc"].route;
  return [key, method, path.replace(/\{\w+\}/g, "email_contract")] as const;
});

describe("box-agent's contract", () => {
  it("has the routes the platform calls", () => {
    expect(ROUTES.map(([key]) => key)).toEqual(
      expect.arrayContaining([
        "health",
        "sessions.list",
        "email.receive",
        "runs.create",
        "runs.get",
        "runs.cancel",
        "runs.events",
      ]),
    );
  });

  it("no longer serves the blocking run routes; runs go through POST /runs", async () => {
    for (const path of ["/sessions/send", "/cron/trigger"]) {
      const res = await agent.app.request(path, {
        method: "POST",
        headers: { "x-box-secret": SECRET, "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status, path).toBe(404);
    }
  });

  it.each(ROUTES)("%s is served at %s %s", async (_key, method, path) => {
    // An empty JSON object is refused by every POST route's schema before anything runs.
    const res = await agent.app.request(path, {
      method,
      headers: {
        "x-box-secret": SECRET,
        ...(method === "POST" ? { "content-type": "application/json" } : {}),
      },
      body: method === "POST" ? "{}" : undefined,
    });
    const body = (await res.json()) as { message?: string };
    expect(body.message ?? "", JSON.stringify(body)).not.toMatch(/^no route/);
    expect(res.status, JSON.stringify(body)).toBeLessThan(500);
  });
});
