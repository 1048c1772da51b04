import { box } from "@vps-claude/db";
import { inArray } from "drizzle-orm";
import { nowMs, sleep } from "../lib/distribution";
import type { Platform } from "../lib/platform";
import type { UserClient } from "../lib/user-client";

export interface DeployedBox {
  id: string;
  email: string;
  spriteName: string;
  /** When the benchmark sent `POST /rpc/box`. */
  requestedAtMs: number;
  /** When Finalize marked the box running (the server's clock, which is this machine's). */
  runningAtMs: number;
  /** When a poll of `GET /rpc/box` first showed it running (bounded by the poll interval). */
  observedRunningAtMs: number;
}

interface BoxListEntry {
  id: string;
  status: string;
  errorMessage: string | null;
}

const POLL_INTERVAL_MS = 100;

async function requestBox(client: UserClient, name: string) {
  const requestedAtMs = nowMs();
  const created = await client.expect<{ id: string; email: string }>(201, "POST", "/rpc/box", { name });
  return { id: created.id, email: created.email, requestedAtMs };
}

/**
 * Polls the user's box list (one request however many boxes) until every id is running. The list is
 * newest first and paged; the boxes waited for are the newest, well within one page.
 */
async function waitForRunning(client: UserClient, ids: string[], timeoutMs: number) {
  const observed = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (observed.size < ids.length) {
    const list = await client.expect<BoxListEntry[]>(200, "GET", "/rpc/box?limit=200");
    const at = nowMs();
    for (const entry of list) {
      if (!ids.includes(entry.id) || observed.has(entry.id)) {
        continue;
      }
      if (entry.status === "error") {
        throw new Error(`box ${entry.id} failed to deploy: ${entry.errorMessage}`);
      }
      if (entry.status === "running") {
        observed.set(entry.id, at);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${ids.length - observed.size} of ${ids.length} boxes not running after ${timeoutMs} ms`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return observed;
}

async function describeDeployed(
  platform: Platform,
  requested: { id: string; email: string; requestedAtMs: number }[],
  observed: Map<string, number>,
): Promise<DeployedBox[]> {
  const rows = await platform.deps.db
    .select({ id: box.id, spriteName: box.spriteName, lastDeployedAt: box.lastDeployedAt })
    .from(box)
    .where(
      inArray(
        box.id,
        requested.map((entry) => entry.id),
      ),
    );
  return requested.map((entry) => {
    const row = rows.find((candidate) => candidate.id === entry.id);
    if (!row?.spriteName || !row.lastDeployedAt) {
      throw new Error(`box ${entry.id} is running without a sprite name or deploy time`);
    }
    return {
      ...entry,
      spriteName: row.spriteName,
      runningAtMs: row.lastDeployedAt.getTime(),
      observedRunningAtMs: observed.get(entry.id) ?? Number.NaN,
    };
  });
}

/** Creates boxes one after another, each only once the previous one is running. */
export async function deployOneAfterAnother(
  platform: Platform,
  client: UserClient,
  count: number,
  timeoutPerBoxMs: number,
  onDeployed: (index: number, deployed: DeployedBox) => void,
): Promise<DeployedBox[]> {
  const deployed: DeployedBox[] = [];
  for (let index = 0; index < count; index++) {
    const requested = await requestBox(client, `Serial ${index + 1}`);
    const observed = await waitForRunning(client, [requested.id], timeoutPerBoxMs);
    const [result] = await describeDeployed(platform, [requested], observed);
    if (result) {
      deployed.push(result);
      onDeployed(index, result);
    }
  }
  return deployed;
}

/** Creates `count` boxes at once (concurrent requests) and waits for all of them. */
export async function deployAtOnce(
  platform: Platform,
  client: UserClient,
  count: number,
  timeoutMs: number,
): Promise<DeployedBox[]> {
  const requested = await Promise.all(
    Array.from({ length: count }, (_, index) => requestBox(client, `Parallel ${index + 1}`)),
  );
  const observed = await waitForRunning(
    client,
    requested.map((entry) => entry.id),
    timeoutMs,
  );
  return describeDeployed(platform, requested, observed);
}
