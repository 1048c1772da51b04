import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { boxAgentHealthSchema } from "@vps-claude/contract/box-agent";
import { box } from "@vps-claude/db";
import { PermanentJobError } from "@vps-claude/queue";
import { decryptSecret, encryptSecret } from "@vps-claude/shared";
import { readBoundedBody, type SpriteSummary } from "@vps-claude/sprites";
import { and, eq, sql } from "drizzle-orm";
import { getBoxToken } from "../box/authenticate-box";
import { applyNetworkPolicy } from "../box/box-network-policy";
import { readCredentialValues } from "../credential/manage-credentials";
import { readEnvVarValues } from "../env-var/manage-env-vars";
import { OWNER_MODEL_KEY } from "../model-gateway/resolve-model-key";
import { listSkills } from "../skills/skill-catalog";
import type { DeployRuntime } from "./deploy-runtime";
import { spriteNameFor } from "./deploy-runtime";
import type { CurrentBox, StepDeps, StepOutcome } from "./pipeline";

const SERVICE_NAME = "box-agent";
const HEALTH_ANSWER_MAX_BYTES = 64 * 1024;

/**
 * CreateSprite: the sprite name is fixed by the box id and recorded before the call, so a retry
 * (or a worker that died mid-call) finds the same sprite instead of making a second one.
 * The sprite URL is public: the platform reaches box-agent with the box token only, never the
 * Sprites account token. The box's stored network policy is (re)applied, so a redeploy restores it.
 */
export async function createSpriteStep(
  { deps, runtime }: StepDeps,
  current: CurrentBox,
): Promise<StepOutcome> {
  const name = current.spriteName ?? spriteNameFor(runtime.spriteNamePrefix, current.id);
  if (!current.spriteName) {
    await deps.db.update(box).set({ spriteName: name }).where(eq(box.id, current.id));
  }
  const sprite: SpriteSummary = await runtime.sprites.createOrGetSprite(name, {
    urlAuth: "public",
    labels: ["vps-claude", current.id],
  });
  // A delete that raced this step must not leave an orphan behind.
  const [still] = await deps.db
    .select({ status: box.status, networkPolicy: box.networkPolicy })
    .from(box)
    .where(eq(box.id, current.id));
  if (!still || still.status === "deleting") {
    await runtime.sprites.deleteSprite(name);
    return { status: "skipped", log: "box deleted during deploy; sandbox removed" };
  }
  await deps.db.update(box).set({ spriteUrl: sprite.url }).where(eq(box.id, current.id));
  const rules = await applyNetworkPolicy({
    sprites: runtime.sprites,
    spriteName: name,
    policy: still.networkPolicy,
    alwaysAllowed: deps.config.platformEgressDomains,
  });
  return {
    log: `sprite ${name} is ${sprite.status}${sprite.url ? ` at ${sprite.url}` : ""}; network policy '${still.networkPolicy.mode}' (${rules.length} rules)`,
  };
}

async function spriteHome(runtime: DeployRuntime, name: string): Promise<string> {
  const result = await runtime.sprites.exec(name, 'printf %s "$HOME"', { timeoutMs: 30_000 });
  const home = result.stdout.trim();
  if (result.exitCode !== 0 || !home.startsWith("/")) {
    throw new Error(`could not read the sandbox's HOME (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
  return home;
}

async function pickPort(runtime: DeployRuntime, name: string): Promise<number> {
  if (runtime.boxAgentPort !== "auto") {
    return runtime.boxAgentPort;
  }
  const script = `${runtime.nodeCommand} -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'`;
  const result = await runtime.sprites.exec(name, script, { timeoutMs: 30_000 });
  const port = Number(result.stdout.trim());
  if (result.exitCode !== 0 || !Number.isInteger(port) || port <= 0) {
    throw new Error(
      `could not pick a port inside the sandbox: ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return port;
}

function requireSprite(current: CurrentBox): string {
  if (!current.spriteName) {
    throw new PermanentJobError("the box has no sandbox yet (CreateSprite did not record one)");
  }
  return current.spriteName;
}

/**
 * SetupStep: copies the box-agent bundle and its config into the sprite and runs it as the
 * sprite's HTTP service. Secrets (box token, credentials, env vars) are read from the database here
 * and written into the sandbox as 0600 files: they never pass through job data or a command line.
 */
export async function setupStep({ deps, runtime }: StepDeps, current: CurrentBox): Promise<StepOutcome> {
  const name = requireSprite(current);
  const token = await getBoxToken({ db: deps.db, keyring: deps.keyring, boxId: current.id });
  if (!token) {
    throw new PermanentJobError("the box has no token; recreate the box");
  }
  const credentials = await readCredentialValues({ deps, userId: current.userId });
  const envVars = await readEnvVarValues({ deps, boxId: current.id });
  const home = await spriteHome(runtime, name);
  const port = await pickPort(runtime, name);
  const dataDir = `${home}/.box-agent`;
  const bundlePath = `${dataDir}/bin/box-agent.mjs`;

  // The box holds only its own token: Claude reaches the model through the gateway at
  // ${serverUrl}/box/llm with it, and the real key (the owner's or the platform's) stays here.
  const config = {
    port,
    host: runtime.boxAgentHost,
    boxId: current.id,
    boxSecret: token,
    serverUrl: runtime.serverUrlForBoxes,
  };
  const { [OWNER_MODEL_KEY]: _ownerModelKey, ...otherCredentials } = credentials;
  await runtime.sprites.writeFile(name, bundlePath, await runtime.readBoxAgentBundle(), 0o755);
  await runtime.sprites.writeFile(name, `${dataDir}/config.json`, JSON.stringify(config, null, 2), 0o600);
  await runtime.sprites.writeFile(
    name,
    `${dataDir}/env.json`,
    JSON.stringify({ ...otherCredentials, ...envVars }, null, 2),
    0o600,
  );

  const { service, events } = await runtime.sprites.putService(
    name,
    {
      name: SERVICE_NAME,
      cmd: runtime.nodeCommand,
      args: [bundlePath, "serve"],
      env: {
        HOME: home,
        ...(runtime.nodePath ? { NODE_PATH: runtime.nodePath } : {}),
        ...(runtime.boxAgentEnv ?? {}),
      },
      dir: home,
      httpPort: port,
    },
    // A short look at its startup output for the log; HealthCheck (polling) decides when it is up.
    { monitor: "500ms" },
  );
  const output = events
    .map((event) => event.data ?? (event.exitCode === undefined ? event.type : `exit ${event.exitCode}`))
    .join("\n");
  return {
    log: `box-agent installed at ${bundlePath}, service ${service.name} ${service.status} on port ${port}; ${Object.keys(envVars).length} env vars, ${Object.keys(otherCredentials).length} credentials\n${output}`,
  };
}

/** HealthCheck: box-agent answers /health through the sprite URL, for this box. */
export async function healthCheckStep({ runtime }: StepDeps, current: CurrentBox): Promise<StepOutcome> {
  const name = requireSprite(current);
  const response = await runtime.sprites.waitForUrl(name, {
    path: "/health",
    timeoutMs: runtime.healthTimeoutMs,
    intervalMs: 250,
  });
  // Whatever answers the sprite URL is the box's own program: read a bounded body, check its shape.
  const parsed = boxAgentHealthSchema.safeParse(
    await readBoundedBody(response, HEALTH_ANSWER_MAX_BYTES).then(
      (raw) => JSON.parse(raw.toString("utf8")) as unknown,
      () => undefined,
    ),
  );
  const body = parsed.success ? parsed.data : { boxId: undefined, version: undefined };
  if (body.boxId !== current.id) {
    throw new Error(`the sprite URL answered for box '${body.boxId ?? "unknown"}', not this box`);
  }
  return { log: `box-agent ${body.version ?? ""} healthy through the sprite URL` };
}

/** InstallSkill: copies a skill's folder from the catalog into the box's Claude skills directory. */
export async function installSkillStep(
  { deps, runtime }: StepDeps,
  current: CurrentBox,
  skillName: string,
): Promise<StepOutcome> {
  const name = requireSprite(current);
  const skill = (await listSkills(deps.config.skillsDir)).find((entry) => entry.name === skillName);
  if (!skill) {
    throw new PermanentJobError(`skill '${skillName}' is not in the catalog`);
  }
  const home = await spriteHome(runtime, name);
  const files = await listFiles(skill.dir);
  for (const file of files) {
    const target = `${home}/.claude/skills/${skill.name}/${relative(skill.dir, file)}`;
    await runtime.sprites.writeFile(name, target, await readFile(file), 0o644);
  }
  return { log: `installed ${files.length} file(s) into ~/.claude/skills/${skill.name}` };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...(await listFiles(path)));
    } else if (entry.isFile()) {
      files.push(path);
    }
  }
  return files;
}

export const accessPasswordAad = (boxId: string) => `box:${boxId}:access_password`;

/**
 * EnableAccess: gives the owner a login password for the box (kept encrypted here, shown to the
 * owner on request, the same across redeploys) and sets it for the sandbox's user where the sandbox
 * allows it (a Fly sprite with sudo). Sprite URL access stays token-guarded ("sprite" auth); on
 * sprites-local, which has no logins, the owner reaches the box through the platform.
 */
export async function enableAccessStep(
  { deps, runtime }: StepDeps,
  current: CurrentBox,
): Promise<StepOutcome> {
  const name = requireSprite(current);
  const password = current.accessPassword
    ? decryptSecret(deps.keyring, current.accessPassword, accessPasswordAad(current.id))
    : randomBytes(18).toString("base64url");
  const login = await runtime.sprites.exec(
    name,
    'if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && command -v chpasswd >/dev/null 2>&1; then printf "%s:%s" "$(id -un)" "$BOX_ACCESS_PASSWORD" | sudo -n chpasswd && echo "login password set for $(id -un)"; else echo "no sudo in this sandbox: access is through the platform"; fi',
    { env: { BOX_ACCESS_PASSWORD: password }, timeoutMs: 30_000 },
  );
  if (login.exitCode !== 0) {
    throw new Error(`setting the login password failed (exit ${login.exitCode}): ${login.stderr.trim()}`);
  }
  if (!current.accessPassword) {
    await deps.db
      .update(box)
      .set({ accessPassword: encryptSecret(deps.keyring, password, accessPasswordAad(current.id)) })
      .where(eq(box.id, current.id));
  }
  return { log: login.stdout.trim() || login.stderr.trim() };
}

/** Finalize: the box is `running` — unless a newer deploy or a delete took over meanwhile. */
export async function finalizeStep(
  { deps }: StepDeps,
  current: CurrentBox,
  deployId: string,
): Promise<StepOutcome> {
  const updated = await deps.db
    .update(box)
    .set({ status: "running", errorMessage: null, lastDeployedAt: new Date() })
    .where(and(eq(box.id, current.id), eq(box.deployId, deployId), sql`${box.status} = 'deploying'`))
    .returning({ id: box.id });
  return updated.length > 0
    ? { log: "box is running" }
    : { status: "skipped", log: "box changed during deploy" };
}
