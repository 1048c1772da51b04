import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_BUILTIN_TOOLS, loadConfig, readUserEnv } from "./config";

const SECRET = "ab".repeat(32);
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "box-agent-config-"));
  mkdirSync(join(home, ".box-agent"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function writeConfig(value: unknown): void {
  writeFileSync(join(home, ".box-agent", "config.json"), JSON.stringify(value));
}

describe("loadConfig", () => {
  it("reads config.json and applies defaults", () => {
    writeConfig({ boxId: "box_1", boxSecret: SECRET, serverUrl: "https://platform.example/" });
    const config = loadConfig({ BOX_AGENT_HOME: home, PATH: "/usr/bin" });
    expect(config).toMatchObject({
      port: 33002,
      boxId: "box_1",
      boxSecret: SECRET,
      serverUrl: "https://platform.example",
      maxConcurrentRuns: 2,
      builtinTools: DEFAULT_BUILTIN_TOOLS,
      path: "/usr/bin",
      // Claude reaches the model only through the platform's gateway, with the box token.
      anthropicBaseUrl: "https://platform.example/box/llm",
    });
    expect(config.paths).toMatchObject({
      home,
      database: join(home, ".box-agent", "sessions.db"),
      envFile: join(home, ".box-agent", "env.json"),
      claudeConfigDir: join(home, ".box-agent", "claude"),
      inboxDir: join(home, ".inbox"),
      skillsDir: join(home, ".claude", "skills"),
    });
  });

  it("lets the environment override the file", () => {
    writeConfig({ boxId: "box_file", boxSecret: SECRET, serverUrl: "http://file", port: 1000 });
    const config = loadConfig({
      HOME: home,
      BOX_ID: "box_env",
      SERVER_URL: "http://env:33000",
      BOX_AGENT_PORT: "4000",
      BOX_AGENT_MAX_CONCURRENT_RUNS: "5",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
    });
    expect(config).toMatchObject({
      boxId: "box_env",
      serverUrl: "http://env:33000",
      port: 4000,
      maxConcurrentRuns: 5,
      anthropicBaseUrl: "http://127.0.0.1:9",
    });
  });

  it("holds no model key of its own: an anthropicApiKey in config.json is refused", () => {
    writeConfig({ boxId: "b", boxSecret: SECRET, serverUrl: "http://x", anthropicApiKey: "sk-ant-x" });
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(/Unrecognized key.*anthropicApiKey/s);
    writeConfig({ boxId: "b", boxSecret: SECRET, serverUrl: "http://x" });
    expect(loadConfig({ BOX_AGENT_HOME: home, ANTHROPIC_API_KEY: "sk-ant-x" })).not.toHaveProperty(
      "anthropicApiKey",
    );
  });

  it("names every missing setting at once", () => {
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(
      /missing boxId \(env BOX_ID\), boxSecret \(env BOX_SECRET\), serverUrl \(env SERVER_URL\)/,
    );
  });

  it("rejects a malformed token, an unknown key and bad numbers with the field named", () => {
    writeConfig({ boxId: "b", boxSecret: "short", serverUrl: "http://x", prot: 1 });
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(/boxSecret: must be 64 hexadecimal/);
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(/Unrecognized key/);

    writeConfig({ boxId: "b", boxSecret: SECRET, serverUrl: "http://x" });
    expect(() => loadConfig({ BOX_AGENT_HOME: home, BOX_AGENT_MAX_CONCURRENT_RUNS: "two" })).toThrow(
      /BOX_AGENT_MAX_CONCURRENT_RUNS: must be an integer/,
    );
    expect(() => loadConfig({ BOX_AGENT_HOME: home, SERVER_URL: "ftp://x" })).toThrow(ConfigError);
  });

  it("reports a config file that is not JSON", () => {
    writeFileSync(join(home, ".box-agent", "config.json"), "{ nope");
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(/config.json is not valid JSON/);
  });

  it("checks the box env vars file at boot", () => {
    writeConfig({ boxId: "b", boxSecret: SECRET, serverUrl: "http://x" });
    writeFileSync(join(home, ".box-agent", "env.json"), JSON.stringify({ "BAD-KEY": "1" }));
    expect(() => loadConfig({ BOX_AGENT_HOME: home })).toThrow(/BAD-KEY: env var names/);
  });
});

describe("readUserEnv", () => {
  it("returns no vars when the file is absent, and warns when it is readable by others", () => {
    const path = join(home, ".box-agent", "env.json");
    expect(readUserEnv(path)).toEqual({ vars: {}, permissionWarning: undefined });

    writeFileSync(path, JSON.stringify({ GITHUB_TOKEN: "t" }), { mode: 0o600 });
    chmodSync(path, 0o600);
    expect(readUserEnv(path)).toEqual({ vars: { GITHUB_TOKEN: "t" }, permissionWarning: undefined });

    chmodSync(path, 0o644);
    expect(readUserEnv(path).permissionWarning).toMatch(/mode 644; it should be 600/);
  });
});
