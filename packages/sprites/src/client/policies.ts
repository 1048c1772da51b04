import { BodyTooLargeError, readBoundedBody } from "../bounded-body.js";
import { codeForStatus, SpritesError, toSpritesError } from "../errors.js";
import type { ClientContext } from "./context.js";

/** One egress rule of the Sprites network policy: first match wins, no match allows. */
export interface NetworkPolicyRule {
  action: "allow" | "deny";
  /** A hostname, `*.suffix`, or `*` for everything. */
  domain: string;
}

export interface PolicyOperations {
  /** The sprite's egress rules (`GET /v1/sprites/{name}/policy/network`). */
  getNetworkPolicy(name: string): Promise<NetworkPolicyRule[]>;
  /** Replaces the sprite's egress rules; applied to the running sprite at once. */
  setNetworkPolicy(name: string, rules: NetworkPolicyRule[]): Promise<void>;
}

/** Policy answers are a few rules; anything bigger is not the Sprites API talking. */
const POLICY_MAX_BYTES = 256 * 1024;
const POLICY_TIMEOUT_MS = 30_000;

/**
 * A call to the Sprites API made by this wrapper rather than the SDK: the
 * account token goes to the API base only, redirects are answers (never followed), and bodies are bounded.
 */
async function apiRequest(
  ctx: ClientContext,
  operation: string,
  path: string,
  init: { method: "GET" | "POST"; body?: unknown },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${ctx.baseUrl}${path}`, {
      method: init.method,
      headers: {
        authorization: `Bearer ${ctx.token}`,
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

export function policyOperations(ctx: ClientContext): PolicyOperations {
  const { logger, retried } = ctx;
  const policyPath = (name: string) => `/v1/sprites/${encodeURIComponent(name)}/policy/network`;
  return {
    async getNetworkPolicy(name) {
      const operation = `get the network policy of sprite '${name}'`;
      const answer = await retried(operation, () =>
        apiRequest(ctx, operation, policyPath(name), { method: "GET" }),
      );
      return parseRules(answer, operation);
    },

    async setNetworkPolicy(name, rules) {
      const operation = `set the network policy of sprite '${name}'`;
      await retried(operation, () =>
        apiRequest(ctx, operation, policyPath(name), {
          method: "POST",
          body: { rules: rules.map(({ action, domain }) => ({ action, domain })) },
        }),
      );
      logger.info({ sprite: name, rules: rules.length }, "network policy set");
    },
  };
}
