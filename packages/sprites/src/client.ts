import "./install-websocket.js";
import { randomBytes } from "node:crypto";
import {
  SpritesClient as SdkClient,
  type ServiceWithState,
  type Sprite,
  type SpriteInfo,
} from "@fly/sprites";
import { createLogger, type Logger } from "@vps-claude/logger";
import { BodyTooLargeError, readBoundedBody } from "./bounded-body.js";
import { codeForStatus, SpritesError, toSpritesError } from "./errors.js";
import { EXEC_PRELUDE, envBlock, stripMarker } from "./exec-script.js";
import { DEFAULT_RETRY, type RetryOptions, withRetry } from "./retry.js";

export type UrlAuth = "sprite" | "public";

export interface SpriteSummary {
  name: string;
  id: string;
  /** The sprite URL (routed to the service that declares `httpPort`, else port 8080). */
  url: string | null;
  status: string;
  urlAuth: UrlAuth;
  labels: string[];
  createdAt: Date | null;
}

export interface CreateSpriteOptions {
  /**
   * "sprite" (default): URL requests need the API token; "public": anyone may call the URL.
   * Given explicitly, an existing sprite with the other setting is switched to it. `fetchSprite`
   * only reaches public URLs: the account token never goes to a sprite.
   */
  urlAuth?: UrlAuth;
  labels?: string[];
  environment?: Record<string, string>;
}

export interface ExecOptions {
  /** Added to the sprite's environment (sent on stdin, never in the URL). */
  env?: Record<string, string>;
  /** The command is killed and the call fails with code "timeout" after this long. Default 10 min. */
  timeoutMs?: number;
  stdin?: string | Buffer;
  cwd?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ServiceSpec {
  name: string;
  cmd: string;
  args?: string[];
  env?: Record<string, string>;
  dir?: string;
  needs?: string[];
  /** The port the sprite URL routes to. */
  httpPort?: number;
}

export interface ServiceInfo {
  name: string;
  cmd: string;
  args: string[];
  httpPort: number | null;
  status: string;
  pid: number | null;
  restartCount: number;
  error: string | null;
}

export interface PutServiceResult {
  service: ServiceInfo;
  /** Output and lifecycle events seen while the service started. */
  events: Array<{ type: string; data?: string; exitCode?: number }>;
}

export interface WaitForUrlOptions {
  path?: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** When the answer counts as ready. Default: any 2xx. */
  isReady?: (response: Response) => boolean;
}

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
}

/** One egress rule of the Sprites network policy: first match wins, no match allows. */
export interface NetworkPolicyRule {
  action: "allow" | "deny";
  /** A hostname, `*.suffix`, or `*` for everything. */
  domain: string;
}

export interface CheckpointInfo {
  id: string;
  createTime: Date;
  comment: string;
}

export interface SpritesClientOptions {
  token: string;
  /** Sprites API base URL; sprites-local is `http://127.0.0.1:33010`. Default https://api.sprites.dev. */
  baseUrl?: string;
  logger?: Logger;
  retry?: Partial<RetryOptions>;
  /** How often a running command prints its keepalive marker (must stay well under the SDK's 45 s). */
  keepaliveIntervalMs?: number;
}

export interface SpritesClient {
  /** Creates the sprite, or returns it when it already exists (safe to repeat). */
  createOrGetSprite(name: string, options?: CreateSpriteOptions): Promise<SpriteSummary>;
  /** The sprite, or null when it does not exist. */
  getSprite(name: string): Promise<SpriteSummary | null>;
  listSprites(prefix?: string): Promise<SpriteSummary[]>;
  /** Deletes the sprite; a sprite that is already gone is fine. */
  deleteSprite(name: string): Promise<void>;
  /** Runs `script` with `bash -lc`; a non-zero exit is a result, not an error. */
  exec(name: string, script: string, options?: ExecOptions): Promise<ExecResult>;
  writeFile(name: string, path: string, data: string | Buffer, mode?: number): Promise<void>;
  readFile(name: string, path: string): Promise<Buffer>;
  /** The entries of a directory (not recursive). */
  listDir(name: string, path: string): Promise<DirEntry[]>;
  /** Creates or replaces a service and starts it; `monitor` is how long to collect its startup output. */
  putService(name: string, service: ServiceSpec, options?: { monitor?: string }): Promise<PutServiceResult>;
  getService(name: string, serviceName: string): Promise<ServiceInfo | null>;
  /** Stops (if running) and deletes a service; a missing service is fine. */
  deleteService(name: string, serviceName: string): Promise<void>;
  /**
   * A request to the sprite's public URL. Never carries the account token and never follows a
   * redirect (a 3xx comes back as the response): what answers there is the sprite's own program.
   */
  fetchSprite(name: string, path: string, init?: RequestInit): Promise<Response>;
  /** Polls the sprite URL until it answers ready (wakes the sprite and waits for its HTTP service). */
  waitForUrl(name: string, options?: WaitForUrlOptions): Promise<Response>;
  checkpoint(name: string, comment?: string): Promise<CheckpointInfo>;
  listCheckpoints(name: string): Promise<CheckpointInfo[]>;
  restoreCheckpoint(name: string, checkpointId: string): Promise<void>;
  /** The sprite's egress rules (`GET /v1/sprites/{name}/policy/network`). */
  getNetworkPolicy(name: string): Promise<NetworkPolicyRule[]>;
  /** Replaces the sprite's egress rules; applied to the running sprite at once. */
  setNetworkPolicy(name: string, rules: NetworkPolicyRule[]): Promise<void>;
}

const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_KEEPALIVE_MS = 20_000;
/** One URL poll may not hang longer than this, however long the overall wait. */
const URL_ATTEMPT_TIMEOUT_MS = 10_000;
/** Policy answers are a few rules; anything bigger is not the Sprites API talking. */
const POLICY_MAX_BYTES = 256 * 1024;
const POLICY_TIMEOUT_MS = 30_000;

function summarize(info: SpriteInfo | Sprite): SpriteSummary {
  return {
    name: info.name,
    id: info.id ?? "",
    url: info.url ?? null,
    status: info.status ?? "unknown",
    urlAuth: info.urlSettings?.auth === "public" ? "public" : "sprite",
    labels: info.labels ?? [],
    createdAt: info.createdAt ?? null,
  };
}

function serviceInfo(service: ServiceWithState): ServiceInfo {
  return {
    name: service.name,
    cmd: service.cmd,
    args: service.args ?? [],
    httpPort: service.httpPort ?? null,
    status: service.state?.status ?? "stopped",
    pid: service.state?.pid ?? null,
    restartCount: service.state?.restartCount ?? 0,
    error: service.state?.error ?? null,
  };
}

/** Orders "v3" after "v2" when two checkpoints share a timestamp. */
function checkpointSeq(id: string): number {
  const match = /^v(\d+)$/.exec(id);
  return match ? Number(match[1]) : -1;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

export function createSpritesClient(options: SpritesClientOptions): SpritesClient {
  const baseUrl = (options.baseUrl ?? "https://api.sprites.dev").replace(/\/+$/, "");
  const sdk = new SdkClient(options.token, { baseURL: baseUrl });
  const logger = options.logger ?? createLogger({ name: "sprites" });
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const keepaliveMs = options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS;
  /** URL and auth mode per sprite; they change only through updates this client does not make. */
  const urlCache = new Map<string, { url: string; auth: UrlAuth }>();

  const remember = (summary: SpriteSummary): SpriteSummary => {
    if (summary.url) {
      urlCache.set(summary.name, { url: summary.url, auth: summary.urlAuth });
    }
    return summary;
  };

  const retried = <T>(operation: string, run: () => Promise<T>) => withRetry(operation, run, retry, logger);

  async function getSprite(name: string): Promise<SpriteSummary | null> {
    try {
      return remember(summarize(await retried(`get sprite '${name}'`, () => sdk.getSprite(name))));
    } catch (error) {
      if (error instanceof SpritesError && error.code === "not_found") {
        return null;
      }
      throw error;
    }
  }

  async function spriteUrl(name: string): Promise<{ url: string; auth: UrlAuth }> {
    const cached = urlCache.get(name);
    if (cached) {
      return cached;
    }
    const sprite = await getSprite(name);
    if (!sprite?.url) {
      throw new SpritesError("not_found", `sprite '${name}' has no URL (does it exist?)`);
    }
    return { url: sprite.url, auth: sprite.urlAuth };
  }

  /** The URL of a sprite whose URL is public; a private one would need the account token, which a sprite never gets. */
  async function publicSpriteUrl(name: string): Promise<string> {
    let target = await spriteUrl(name);
    if (target.auth !== "public") {
      // The cache may predate a switch to public made elsewhere.
      urlCache.delete(name);
      target = await spriteUrl(name);
    }
    if (target.auth !== "public") {
      throw new SpritesError(
        "forbidden",
        `sprite '${name}' has a private URL (url_settings.auth "sprite"); the account token is never sent to a sprite URL: make the URL public (createOrGetSprite with urlAuth "public") and let the sprite's service check its own token`,
        { retryable: false },
      );
    }
    return target.url;
  }

  /**
   * A call to the Sprites API made by this wrapper rather than the SDK: the account token goes to
   * the API base only, redirects are answers (never followed), and bodies are bounded.
   */
  async function apiRequest(
    operation: string,
    path: string,
    init: { method: "GET" | "POST"; body?: unknown },
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method: init.method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: "application/json",
          ...(init.body !== undefined && { "content-type": "application/json" }),
        },
        ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
        redirect: "manual",
        signal: AbortSignal.timeout(POLICY_TIMEOUT_MS),
      });
    } catch (error) {
      throw toSpritesError(error, operation);
    }
    let text: string;
    try {
      text = (await readBoundedBody(response, POLICY_MAX_BYTES)).toString("utf8");
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        throw new SpritesError("operation_failed", `${operation} failed: ${error.message}`, {
          status: response.status,
          retryable: false,
        });
      }
      throw toSpritesError(error, operation);
    }
    if (response.status >= 300 && response.status < 400) {
      throw new SpritesError(
        "operation_failed",
        `${operation} failed: the Sprites API answered a redirect (HTTP ${response.status}), which is not followed`,
        { status: response.status, retryable: false },
      );
    }
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const detail = (json as { message?: unknown } | undefined)?.message;
      throw new SpritesError(
        codeForStatus(response.status),
        `${operation} failed (HTTP ${response.status}): ${typeof detail === "string" ? detail : text.slice(0, 300)}`,
        { status: response.status },
      );
    }
    return json;
  }

  function execOnce(name: string, script: string, execOptions: ExecOptions): Promise<ExecResult> {
    const timeoutMs = execOptions.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const marker = `__sprites_keepalive_${randomBytes(8).toString("hex")}__`;
    const intervalSeconds = String(Math.max(1, Math.round(keepaliveMs / 1000)));
    const input = Buffer.concat([
      Buffer.from(envBlock(execOptions.env ?? {}), "utf8"),
      typeof execOptions.stdin === "string"
        ? Buffer.from(execOptions.stdin, "utf8")
        : (execOptions.stdin ?? Buffer.alloc(0)),
    ]);
    const command = sdk
      .sprite(name)
      .spawn("bash", ["-lc", EXEC_PRELUDE, "sprites-exec", script, marker, intervalSeconds], {
        ...(execOptions.cwd !== undefined && { cwd: execOptions.cwd }),
      });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    command.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    command.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // The SDK ends both streams when the exit frame arrives; waiting for that guarantees no output is missed.
    const drained = Promise.all(
      [command.stdout, command.stderr].map(
        (stream) => new Promise<void>((resolve) => stream.once("end", () => resolve())),
      ),
    );
    const collected = () => ({
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: stripMarker(Buffer.concat(stderr).toString("utf8"), marker),
    });

    return new Promise<ExecResult>((resolve, reject) => {
      let started = false;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          outcome();
        }
      };
      const timer = setTimeout(() => {
        command.kill("SIGKILL");
        settle(() =>
          reject(
            new SpritesError("timeout", `command on sprite '${name}' did not finish within ${timeoutMs} ms`, {
              details: collected(),
              retryable: false,
            }),
          ),
        );
      }, timeoutMs);
      command.on("spawn", () => {
        started = true;
        command.stdin.end(input);
      });
      command.on("exit", (code: number) => {
        if (code < 0) {
          settle(() =>
            reject(
              new SpritesError(
                "exec_interrupted",
                `the connection to sprite '${name}' closed before the command finished`,
                { details: collected(), retryable: false },
              ),
            ),
          );
          return;
        }
        settle(() => {
          void drained.then(() => resolve({ exitCode: code, ...collected() }));
        });
      });
      command.on("error", (error: unknown) => {
        if (started) {
          settle(() =>
            reject(
              new SpritesError(
                "exec_interrupted",
                `command on sprite '${name}' lost its connection: ${error instanceof Error ? error.message : String(error)}`,
                { details: collected(), retryable: false, cause: error },
              ),
            ),
          );
          return;
        }
        // Nothing ran yet, so connection failures may be retried.
        const operation = `exec on sprite '${name}'`;
        const failure = toSpritesError(error, operation);
        if (failure.code !== "network") {
          settle(() => reject(failure));
          return;
        }
        // A refused WebSocket upgrade looks like a network failure (the standard WebSocket API hides the
        // HTTP answer): ask the REST API whether the sprite exists and the token is good.
        settle(() => {
          sdk.getSprite(name).then(
            () => reject(failure),
            (restError: unknown) => {
              const precise = toSpritesError(restError, operation);
              const definite = ["not_found", "unauthorized", "forbidden"].includes(precise.code);
              reject(definite ? precise : failure);
            },
          );
        });
      });
    });
  }

  async function getService(name: string, serviceName: string): Promise<ServiceInfo | null> {
    try {
      return serviceInfo(
        await retried(`get service '${serviceName}' on sprite '${name}'`, () =>
          sdk.sprite(name).getService(serviceName),
        ),
      );
    } catch (error) {
      if (error instanceof SpritesError && error.code === "not_found") {
        return null;
      }
      throw error;
    }
  }

  async function fetchSprite(name: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = await publicSpriteUrl(name);
    try {
      return await fetch(joinUrl(url, path), { ...init, redirect: "manual" });
    } catch (error) {
      throw toSpritesError(error, `request to ${path} on sprite '${name}'`);
    }
  }

  async function listCheckpoints(name: string): Promise<CheckpointInfo[]> {
    const checkpoints = await retried(`list checkpoints of sprite '${name}'`, () =>
      sdk.sprite(name).listCheckpoints(),
    );
    return checkpoints
      .filter((checkpoint) => checkpoint.id !== "Current")
      .map((checkpoint) => ({
        id: checkpoint.id,
        createTime: checkpoint.createTime,
        comment: checkpoint.comment ?? "",
      }));
  }

  return {
    async createOrGetSprite(name, createOptions = {}) {
      const existing = await getSprite(name);
      if (existing) {
        const wanted = createOptions.urlAuth;
        if (wanted === undefined || existing.urlAuth === wanted) {
          return existing;
        }
        const updated = await retried(`set URL auth of sprite '${name}' to ${wanted}`, () =>
          sdk.updateSprite(name, { urlSettings: { auth: wanted } }),
        );
        logger.info({ sprite: name, urlAuth: wanted }, "sprite URL auth changed");
        return remember(summarize(updated));
      }
      try {
        const created = await retried(`create sprite '${name}'`, () =>
          sdk.createSprite(name, {
            urlSettings: { auth: createOptions.urlAuth ?? "sprite" },
            ...(createOptions.labels && { labels: createOptions.labels }),
            ...(createOptions.environment && { environment: createOptions.environment }),
          }),
        );
        logger.info({ sprite: name }, "sprite created");
        return remember(summarize(created));
      } catch (error) {
        // Lost a race with another creator (or a retried create that had gone through): use theirs.
        if (error instanceof SpritesError && error.code === "conflict") {
          const raced = await getSprite(name);
          if (raced) {
            return raced;
          }
        }
        throw error;
      }
    },

    getSprite,
    getService,
    fetchSprite,
    listCheckpoints,

    async listSprites(prefix) {
      const sprites = await retried("list sprites", () => sdk.listAllSprites(prefix));
      return sprites.map((sprite) => remember(summarize(sprite)));
    },

    async deleteSprite(name) {
      try {
        await retried(`delete sprite '${name}'`, () => sdk.deleteSprite(name));
        logger.info({ sprite: name }, "sprite deleted");
      } catch (error) {
        if (!(error instanceof SpritesError && error.code === "not_found")) {
          throw error;
        }
      }
      urlCache.delete(name);
    },

    exec(name, script, execOptions = {}) {
      return retried(`exec on sprite '${name}'`, () => execOnce(name, script, execOptions));
    },

    async writeFile(name, path, data, mode) {
      await retried(`write ${path} on sprite '${name}'`, () =>
        sdk
          .sprite(name)
          .filesystem()
          .writeFile(path, data, mode === undefined ? undefined : { mode }),
      );
    },

    async readFile(name, path) {
      return retried(`read ${path} on sprite '${name}'`, async () => {
        const content = await sdk.sprite(name).filesystem().readFile(path);
        return Buffer.isBuffer(content) ? content : Buffer.from(content);
      });
    },

    async listDir(name, path) {
      return retried(`list ${path} on sprite '${name}'`, async () => {
        const entries = await sdk.sprite(name).filesystem().readdir(path, { withFileTypes: true });
        return entries.map((entry) => ({
          name: entry.name,
          type: entry.isDirectory()
            ? "dir"
            : entry.isSymbolicLink()
              ? "symlink"
              : entry.isFile()
                ? "file"
                : "other",
        }));
      });
    },

    async putService(name, service, putOptions = {}) {
      const operation = `start service '${service.name}' on sprite '${name}'`;
      const events = await retried(operation, async () => {
        const stream = await sdk.sprite(name).createService(
          service.name,
          {
            cmd: service.cmd,
            args: service.args ?? [],
            ...(service.env && { env: service.env }),
            ...(service.dir && { dir: service.dir }),
            ...(service.needs && { needs: service.needs }),
            ...(service.httpPort !== undefined && { httpPort: service.httpPort }),
          },
          putOptions.monitor ?? "1s",
        );
        const seen: PutServiceResult["events"] = [];
        for await (const event of stream) {
          if (event.type === "error") {
            throw new SpritesError(
              "operation_failed",
              `${operation} failed: ${event.data ?? "unknown error"}`,
            );
          }
          seen.push({
            type: event.type,
            ...(event.data !== undefined && { data: event.data }),
            ...(event.exitCode !== undefined && { exitCode: event.exitCode }),
          });
        }
        return seen;
      });
      const state = await retried(`get service '${service.name}'`, () =>
        sdk.sprite(name).getService(service.name),
      );
      logger.info({ sprite: name, service: service.name, status: state.state?.status }, "service started");
      return { service: serviceInfo(state), events };
    },

    async deleteService(name, serviceName) {
      const operation = `delete service '${serviceName}' on sprite '${name}'`;
      const existing = await getService(name, serviceName);
      if (!existing) {
        return;
      }
      if (existing.status === "running" || existing.status === "starting") {
        await retried(operation, async () => {
          const stream = await sdk.sprite(name).stopService(serviceName);
          for await (const _event of stream) {
            // Drain the progress stream: the stop is done when it ends.
          }
        }).catch((error: unknown) => {
          if (!(error instanceof SpritesError && error.code === "conflict")) {
            throw error;
          }
        });
      }
      await retried(operation, () => sdk.sprite(name).deleteService(serviceName)).catch((error: unknown) => {
        if (!(error instanceof SpritesError && error.code === "not_found")) {
          throw error;
        }
      });
    },

    async waitForUrl(name, waitOptions = {}) {
      const path = waitOptions.path ?? "/";
      const timeoutMs = waitOptions.timeoutMs ?? 60_000;
      const intervalMs = waitOptions.intervalMs ?? 500;
      const isReady = waitOptions.isReady ?? ((response: Response) => response.ok);
      const deadline = Date.now() + timeoutMs;
      let last = "no answer yet";
      while (true) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new SpritesError(
            "timeout",
            `sprite '${name}' did not answer ${path} as ready within ${timeoutMs} ms (last: ${last})`,
            { retryable: false },
          );
        }
        try {
          const response = await fetchSprite(name, path, {
            signal: AbortSignal.timeout(Math.min(remaining, URL_ATTEMPT_TIMEOUT_MS)),
          });
          if (isReady(response)) {
            return response;
          }
          last = `HTTP ${response.status}`;
          await response.body?.cancel();
        } catch (error) {
          if (error instanceof SpritesError && !error.retryable) {
            throw error;
          }
          // An attempt cut short by the deadline says less than the answer before it.
          if (!(error instanceof SpritesError && error.code === "timeout" && last !== "no answer yet")) {
            last = error instanceof Error ? error.message : String(error);
          }
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))),
        );
      }
    },

    async checkpoint(name, comment = "") {
      const operation = `checkpoint sprite '${name}'`;
      try {
        const stream = await sdk.sprite(name).createCheckpoint(comment || undefined);
        for await (const message of stream) {
          if (message.type === "error") {
            throw new SpritesError(
              "operation_failed",
              `${operation} failed: ${message.error ?? message.data ?? ""}`,
            );
          }
        }
      } catch (error) {
        throw toSpritesError(error, operation);
      }
      const checkpoints = await listCheckpoints(name);
      const newest = checkpoints
        .filter((checkpoint) => checkpoint.comment === comment)
        .sort(
          (a, b) =>
            b.createTime.getTime() - a.createTime.getTime() || checkpointSeq(b.id) - checkpointSeq(a.id),
        )[0];
      if (!newest) {
        throw new SpritesError("operation_failed", `${operation}: the new checkpoint is not in the list`);
      }
      return newest;
    },

    async restoreCheckpoint(name, checkpointId) {
      const operation = `restore checkpoint '${checkpointId}' on sprite '${name}'`;
      try {
        const stream = await sdk.sprite(name).restoreCheckpoint(checkpointId);
        for await (const message of stream) {
          if (message.type === "error") {
            throw new SpritesError(
              "operation_failed",
              `${operation} failed: ${message.error ?? message.data ?? ""}`,
            );
          }
        }
      } catch (error) {
        throw toSpritesError(error, operation);
      }
    },

    async getNetworkPolicy(name) {
      const operation = `get the network policy of sprite '${name}'`;
      const answer = await retried(operation, () =>
        apiRequest(operation, `/v1/sprites/${encodeURIComponent(name)}/policy/network`, { method: "GET" }),
      );
      return parseRules(answer, operation);
    },

    async setNetworkPolicy(name, rules) {
      const operation = `set the network policy of sprite '${name}'`;
      await retried(operation, () =>
        apiRequest(operation, `/v1/sprites/${encodeURIComponent(name)}/policy/network`, {
          method: "POST",
          body: { rules: rules.map(({ action, domain }) => ({ action, domain })) },
        }),
      );
      logger.info({ sprite: name, rules: rules.length }, "network policy set");
    },
  };
}

function parseRules(answer: unknown, operation: string): NetworkPolicyRule[] {
  const rules = (answer as { rules?: unknown } | undefined)?.rules;
  if (!Array.isArray(rules)) {
    throw new SpritesError("operation_failed", `${operation}: the answer has no 'rules' list`, {
      retryable: false,
    });
  }
  return rules.map((rule: unknown) => {
    const { action, domain } = (rule ?? {}) as { action?: unknown; domain?: unknown };
    if ((action !== "allow" && action !== "deny") || typeof domain !== "string") {
      throw new SpritesError(
        "operation_failed",
        `${operation}: a rule is not { action: "allow" | "deny", domain }: ${JSON.stringify(rule).slice(0, 200)}`,
        { retryable: false },
      );
    }
    return { action, domain };
  });
}
