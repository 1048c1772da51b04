import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { z } from "zod";

export const DEFAULT_PORT = 33002;
export const DEFAULT_MAX_CONCURRENT_RUNS = 2;

/**
 * Built-in Claude Code tools a box agent gets. The box is the user's own sandbox VM, so the agent may
 * work in it; sub-agents, notebooks and interactive tools stay off. `builtinTools` in config.json overrides.
 */
export const DEFAULT_BUILTIN_TOOLS = [
  "Bash",
  "Read",
  "Write",
  "Edit",
  "Glob",
  "Grep",
  "WebFetch",
  "WebSearch",
  "TodoWrite",
];

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const boxSecretSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/i, "must be 64 hexadecimal characters (the box token the platform generated)");

const httpUrlSchema = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .transform((url) => url.replace(/\/+$/, ""));

/** `~/.box-agent/config.json`, written by the platform's SetupStep. Every field can be overridden by env. */
const configFileSchema = z
  .object({
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().min(1).optional(),
    boxId: z.string().min(1).optional(),
    boxSecret: boxSecretSchema.optional(),
    serverUrl: httpUrlSchema.optional(),
    /** Overrides where Claude sends model requests; the platform leaves it unset (its gateway). */
    anthropicBaseUrl: httpUrlSchema.optional(),
    maxConcurrentRuns: z.number().int().min(1).max(32).optional(),
    builtinTools: z.array(z.string().min(1)).optional(),
    claudeExecutable: z.string().min(1).optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

const userEnvSchema = z.record(z.string(), z.string()).superRefine((vars, ctx) => {
  for (const key of Object.keys(vars)) {
    if (!ENV_KEY.test(key)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: "env var names are letters, digits and underscores, not starting with a digit",
      });
    }
  }
});

export interface BoxAgentPaths {
  /** The box user's home: Claude's cwd and HOME. */
  home: string;
  /** `~/.box-agent`: config, env vars, session store, Claude's config dir. */
  dataDir: string;
  configFile: string;
  envFile: string;
  database: string;
  claudeConfigDir: string;
  claudeTmpDir: string;
  /** `~/.inbox`: received emails, one `{id}.json` each; read ones move to `~/.inbox/.archive`. */
  inboxDir: string;
  /** `~/.claude/skills`: where the platform installs skills, one folder with a SKILL.md each. */
  skillsDir: string;
}

export interface BoxAgentConfig {
  port: number;
  host: string;
  boxId: string;
  boxSecret: string;
  serverUrl: string;
  /**
   * Where Claude sends model requests: the platform's model gateway, `${serverUrl}/box/llm`, which
   * takes the box token as its API key. No other model key is ever in the box.
   */
  anthropicBaseUrl: string;
  maxConcurrentRuns: number;
  builtinTools: string[];
  /** Absolute path of a Claude Code binary to use instead of the SDK's bundled one. */
  claudeExecutable: string | undefined;
  /** PATH handed to Claude runs (the daemon's own, captured at boot). */
  path: string;
  /**
   * Claude Code's API retry and timeout knobs (CLAUDE_CODE_MAX_RETRIES, API_TIMEOUT_MS) from the
   * daemon's environment, handed on to runs: tests and operators tune them per box.
   */
  claudeTuning: Record<string, string>;
  paths: BoxAgentPaths;
}

const CLAUDE_TUNING_VARS = ["CLAUDE_CODE_MAX_RETRIES", "API_TIMEOUT_MS"] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

export function resolvePaths(env: Env): BoxAgentPaths {
  const home = env.BOX_AGENT_HOME || env.HOME || homedir();
  if (!isAbsolute(home)) {
    throw new ConfigError(`BOX_AGENT_HOME must be an absolute path, got '${home}'`);
  }
  const dataDir = join(home, ".box-agent");
  return {
    home,
    dataDir,
    configFile: join(dataDir, "config.json"),
    envFile: join(dataDir, "env.json"),
    database: join(dataDir, "sessions.db"),
    claudeConfigDir: join(dataDir, "claude"),
    claudeTmpDir: join(dataDir, "tmp"),
    inboxDir: join(home, ".inbox"),
    skillsDir: join(home, ".claude", "skills"),
  };
}

function formatIssues(error: z.ZodError, where: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
    return `  - ${where} ${path}: ${issue.message}`;
  });
  return lines.join("\n");
}

function readJsonFile(path: string): unknown {
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) {
    return {};
  }
  const parsed = configFileSchema.safeParse(readJsonFile(path));
  if (!parsed.success) {
    throw new ConfigError(`invalid box-agent config:\n${formatIssues(parsed.error, path)}`);
  }
  return parsed.data;
}

function integerFromEnv(value: string | undefined): number | string | undefined {
  if (value === undefined || value === "") {
    return undefined;
  }
  return /^\d+$/.test(value) ? Number(value) : value;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

const envOverridesSchema = z.object({
  BOX_AGENT_PORT: z.number({ error: "must be an integer" }).int().min(0).max(65535).optional(),
  BOX_AGENT_HOST: z.string().min(1).optional(),
  BOX_ID: z.string().min(1).optional(),
  BOX_SECRET: boxSecretSchema.optional(),
  SERVER_URL: httpUrlSchema.optional(),
  ANTHROPIC_BASE_URL: httpUrlSchema.optional(),
  BOX_AGENT_MAX_CONCURRENT_RUNS: z.number({ error: "must be an integer" }).int().min(1).max(32).optional(),
  CLAUDE_CODE_EXECUTABLE: z.string().min(1).optional(),
});

/**
 * Reads config.json, applies env overrides and checks the result, so a missing token or a typo stops
 * the daemon at boot with every problem listed instead of failing the first run.
 */
export function loadConfig(env: Env = process.env): BoxAgentConfig {
  const paths = resolvePaths(env);
  const file = readConfigFile(paths.configFile);
  const overrides = envOverridesSchema.safeParse({
    BOX_AGENT_PORT: integerFromEnv(env.BOX_AGENT_PORT),
    BOX_AGENT_HOST: emptyToUndefined(env.BOX_AGENT_HOST),
    BOX_ID: emptyToUndefined(env.BOX_ID),
    BOX_SECRET: emptyToUndefined(env.BOX_SECRET),
    SERVER_URL: emptyToUndefined(env.SERVER_URL),
    ANTHROPIC_BASE_URL: emptyToUndefined(env.ANTHROPIC_BASE_URL),
    BOX_AGENT_MAX_CONCURRENT_RUNS: integerFromEnv(env.BOX_AGENT_MAX_CONCURRENT_RUNS),
    CLAUDE_CODE_EXECUTABLE: emptyToUndefined(env.CLAUDE_CODE_EXECUTABLE),
  });
  if (!overrides.success) {
    throw new ConfigError(`invalid box-agent environment:\n${formatIssues(overrides.error, "env")}`);
  }
  const o = overrides.data;

  const boxId = o.BOX_ID ?? file.boxId;
  const boxSecret = o.BOX_SECRET ?? file.boxSecret;
  const serverUrl = o.SERVER_URL ?? file.serverUrl;
  const missing: string[] = [];
  if (boxId === undefined) {
    missing.push("boxId (env BOX_ID)");
  }
  if (boxSecret === undefined) {
    missing.push("boxSecret (env BOX_SECRET)");
  }
  if (serverUrl === undefined) {
    missing.push("serverUrl (env SERVER_URL)");
  }
  if (boxId === undefined || boxSecret === undefined || serverUrl === undefined) {
    throw new ConfigError(
      `box-agent is not configured: missing ${missing.join(", ")}. ` +
        `Set them in ${paths.configFile} or in the environment.`,
    );
  }

  const claudeExecutable = o.CLAUDE_CODE_EXECUTABLE ?? file.claudeExecutable;
  if (claudeExecutable !== undefined && !isAbsolute(claudeExecutable)) {
    throw new ConfigError(`claudeExecutable must be an absolute path, got '${claudeExecutable}'`);
  }

  // Checked at boot so a broken env file is reported now; runs re-read it to pick up edits.
  readUserEnv(paths.envFile);

  return {
    port: o.BOX_AGENT_PORT ?? file.port ?? DEFAULT_PORT,
    host: o.BOX_AGENT_HOST ?? file.host ?? "0.0.0.0",
    boxId,
    boxSecret,
    serverUrl,
    anthropicBaseUrl: o.ANTHROPIC_BASE_URL ?? file.anthropicBaseUrl ?? `${serverUrl}/box/llm`,
    maxConcurrentRuns:
      o.BOX_AGENT_MAX_CONCURRENT_RUNS ?? file.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS,
    builtinTools: file.builtinTools ?? DEFAULT_BUILTIN_TOOLS,
    claudeExecutable,
    path: env.PATH || "/usr/local/bin:/usr/bin:/bin",
    claudeTuning: Object.fromEntries(
      CLAUDE_TUNING_VARS.flatMap((name) => {
        const value = env[name];
        return value !== undefined && /^\d{1,9}$/.test(value) ? [[name, value]] : [];
      }),
    ),
    paths,
  };
}

export interface UserEnv {
  vars: Record<string, string>;
  /** Set when the file can be read by other users of the machine; callers log it. */
  permissionWarning: string | undefined;
}

/** The box owner's env vars (`~/.box-agent/env.json`, a flat JSON object of strings). Absent file = none. */
export function readUserEnv(path: string): UserEnv {
  if (!existsSync(path)) {
    return { vars: {}, permissionWarning: undefined };
  }
  const parsed = userEnvSchema.safeParse(readJsonFile(path));
  if (!parsed.success) {
    throw new ConfigError(`invalid box env vars:\n${formatIssues(parsed.error, path)}`);
  }
  const mode = statSync(path).mode & 0o777;
  const permissionWarning =
    (mode & 0o077) !== 0
      ? `${path} holds secrets but has mode ${mode.toString(8)}; it should be 600 (chmod 600 ${path})`
      : undefined;
  return { vars: parsed.data, permissionWarning };
}
