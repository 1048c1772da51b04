import { box, budgetAlert, type Database, user } from "@vps-claude/db";
import { EmailSendError, renderAgentEmail } from "@vps-claude/email";
import { PermanentJobError } from "@vps-claude/queue";
import { newId } from "@vps-claude/shared";
import { and, asc, eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { type BudgetScope, formatUsd, type SpendCap, spendCaps, storedCapsOf } from "./spend-caps";

/** Percentages of a cap at which the owner is told, once per cap and month each. */
export const BUDGET_ALERT_THRESHOLDS = [80, 100] as const;

/** Alerts this process knows exist (it wrote them or lost the insert to another), so it stops asking Postgres. */
const knownAlerts = new WeakMap<Database, Set<string>>();
const KNOWN_ALERTS_MAX = 10_000;

function knownOf(db: Database): Set<string> {
  let known = knownAlerts.get(db);
  if (!known) {
    known = new Set();
    knownAlerts.set(db, known);
  }
  return known;
}

interface AlertKey {
  userId: string;
  scope: BudgetScope;
  period: string;
  threshold: number;
}

const alertKey = (key: AlertKey) =>
  `${key.userId}\u0000${key.scope}\u0000${key.period}\u0000${key.threshold}`;

/**
 * Records the alert and queues its email in one transaction: only the insert that wins the unique
 * index queues (so one email per alert however many processes cross it at once), and a failed
 * enqueue rolls the alert back, so the next check tries again instead of leaving it unsent.
 */
async function insertAlert(
  deps: Pick<ApiDeps, "db" | "queues">,
  key: AlertKey,
  cap: SpendCap,
): Promise<string | null> {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(budgetAlert)
      .values({
        id: newId("budgetAlert"),
        userId: key.userId,
        scope: key.scope,
        period: key.period,
        threshold: key.threshold,
        spentUsd: cap.spentUsd,
        capUsd: cap.capUsd,
      })
      .onConflictDoNothing()
      .returning({ id: budgetAlert.id });
    if (row) {
      // The delay lets the commit land first; a job that still runs early is retried (see sendBudgetAlert).
      await deps.queues.enqueue("budgetAlert", { alertId: row.id }, { jobId: row.id, delay: 1_000 });
    }
    return row?.id ?? null;
  });
}

/**
 * Records (and queues the email of) every alert `caps` have reached that this month has not had
 * yet. Returns the ids of the alerts it created.
 */
export async function recordBudgetAlerts({
  deps,
  userId,
  period,
  caps,
}: {
  deps: Pick<ApiDeps, "db" | "queues">;
  userId: string;
  period: string;
  caps: readonly SpendCap[];
}): Promise<string[]> {
  const known = knownOf(deps.db);
  const created: string[] = [];
  for (const cap of caps) {
    for (const threshold of BUDGET_ALERT_THRESHOLDS) {
      const key = { userId, scope: cap.scope, period, threshold };
      if (cap.spentUsd < (cap.capUsd * threshold) / 100 || known.has(alertKey(key))) {
        continue;
      }
      const id = await insertAlert(deps, key, cap);
      if (id) {
        created.push(id);
      }
      if (known.size >= KNOWN_ALERTS_MAX) {
        known.clear();
      }
      known.add(alertKey(key));
    }
  }
  return created;
}

/**
 * After spend was written (ledger entries for these boxes): reads this month's spend and caps
 * afresh and alerts for whatever they crossed. Never throws: spend is recorded either way, and the
 * next write or admission checks again.
 */
export async function checkBudgetAlerts({
  deps,
  userId,
  boxIds,
}: {
  deps: Pick<ApiDeps, "db" | "queues" | "config" | "logger">;
  userId: string;
  boxIds: readonly string[];
}): Promise<void> {
  try {
    const { period, caps } = await spendCaps({ deps, userId, boxIds, fresh: true });
    await recordBudgetAlerts({ deps, userId, period, caps });
  } catch (err) {
    deps.logger.warn({ err, userId }, "budget alerts could not be checked; the next spend checks again");
  }
}

/** Users whose alert check is running; a spend meanwhile asks for one more check after it. */
const checking = new WeakMap<Database, Map<string, { boxIds: Set<string>; again: boolean }>>();

/**
 * Called once spend was committed (a batch of gateway requests, a media call): checks the alerts
 * of each user spent for, off the caller's path. A user without any cap costs only the cached
 * caps lookup; a user whose check is running gets one more check after it, not one per write.
 */
export function alertAfterSpend(
  deps: Pick<ApiDeps, "db" | "queues" | "config" | "logger">,
  spends: readonly { userId: string; boxId: string }[],
): void {
  let running = checking.get(deps.db);
  if (!running) {
    running = new Map();
    checking.set(deps.db, running);
  }
  const byUser = new Map<string, Set<string>>();
  for (const { userId, boxId } of spends) {
    byUser.set(userId, (byUser.get(userId) ?? new Set()).add(boxId));
  }
  for (const [userId, boxIds] of byUser) {
    const current = running.get(userId);
    if (current) {
      current.again = true;
      for (const boxId of boxIds) {
        current.boxIds.add(boxId);
      }
      continue;
    }
    const state = { boxIds, again: false };
    running.set(userId, state);
    void checkUntilSettled(deps, userId, state).finally(() => running.delete(userId));
  }
}

async function checkUntilSettled(
  deps: Pick<ApiDeps, "db" | "queues" | "config" | "logger">,
  userId: string,
  state: { boxIds: Set<string>; again: boolean },
): Promise<void> {
  do {
    state.again = false;
    const boxIds = [...state.boxIds];
    const hasCap = await hasAnyCap(deps, userId, boxIds).catch(() => true);
    if (hasCap) {
      await checkBudgetAlerts({ deps, userId, boxIds });
    }
  } while (state.again);
}

async function hasAnyCap(
  deps: Pick<ApiDeps, "db" | "config">,
  userId: string,
  boxIds: readonly string[],
): Promise<boolean> {
  if (deps.config.money.defaultMonthlyBudgetUsd !== null) {
    return true;
  }
  const stored = await storedCapsOf({ deps, userId });
  return stored.userUsd !== null || boxIds.some((boxId) => stored.boxes.has(boxId));
}

/** This month's alerts of a user, oldest first: the dashboard's banner. */
export async function listBudgetAlerts({
  deps,
  userId,
  period,
}: {
  deps: Pick<ApiDeps, "db">;
  userId: string;
  period: string;
}) {
  return deps.db
    .select({
      scope: budgetAlert.scope,
      threshold: budgetAlert.threshold,
      spentUsd: budgetAlert.spentUsd,
      capUsd: budgetAlert.capUsd,
      createdAt: budgetAlert.createdAt,
    })
    .from(budgetAlert)
    .where(and(eq(budgetAlert.userId, userId), eq(budgetAlert.period, period)))
    .orderBy(asc(budgetAlert.createdAt));
}

/** The domain of a `Name <address>` or bare address, for the Message-ID of the platform's own mail. */
function senderDomain(from: string, fallback: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? fallback;
}

interface AlertMail {
  subject: string;
  markdown: string;
}

function alertMail(
  deps: Pick<ApiDeps, "config">,
  alert: typeof budgetAlert.$inferSelect,
  boxName: string | null,
): AlertMail {
  const amounts = `${formatUsd(alert.spentUsd)} of ${formatUsd(alert.capUsd)}`;
  const which = boxName === null ? "your monthly budget" : `the monthly budget of your box "${boxName}"`;
  const defaultUsd = deps.config.money.defaultMonthlyBudgetUsd;
  const platformLimit = alert.scope === "user" && defaultUsd !== null && alert.capUsd >= defaultUsd;
  const raise = platformLimit
    ? "This is the platform's limit: ask the platform's operator to raise it."
    : `You can raise it in Settings → Usage: ${deps.config.money.dashboardUrl}`;
  const reached = alert.threshold >= 100;
  const subject = reached
    ? `Monthly budget reached${boxName === null ? "" : ` for "${boxName}"`}: ${amounts}`
    : `${alert.threshold}% of ${which} used: ${amounts}`;
  const consequence = reached
    ? "Model requests and media calls are refused until the month ends (UTC) or the budget is raised, so runs fail with the budget's message."
    : `When it reaches ${formatUsd(alert.capUsd)}, model requests and media calls are refused until the month ends (UTC) or the budget is raised.`;
  const markdown = [
    `Your agents have used **${amounts}** of ${which} for ${alert.period} (${alert.threshold}%).`,
    consequence,
    raise,
  ].join("\n\n");
  return { subject, markdown };
}

/**
 * The budgetAlert job: emails the owner once, from the platform's address. The alert's id is the
 * email's, so Resend's idempotency and the outbox keep a retried send from arriving twice. A job
 * that runs before its alert's transaction commits finds nothing and is retried; one whose alert
 * was rolled back gives up on its last attempt.
 */
export async function sendBudgetAlert({
  deps,
  alertId,
  isFinalAttempt,
}: {
  deps: Pick<ApiDeps, "db" | "config" | "emailProvider">;
  alertId: string;
  isFinalAttempt: boolean;
}): Promise<{ outcome: "sent" | "gone"; providerMessageId?: string }> {
  const [row] = await deps.db
    .select({ alert: budgetAlert, ownerEmail: user.email })
    .from(budgetAlert)
    .innerJoin(user, eq(user.id, budgetAlert.userId))
    .where(eq(budgetAlert.id, alertId))
    .limit(1);
  if (!row) {
    if (isFinalAttempt) {
      return { outcome: "gone" };
    }
    throw new Error(`budget alert ${alertId} is not (yet) in the database; retrying`);
  }
  const { alert } = row;
  const boxId = alert.scope.startsWith("box:") ? alert.scope.slice(4) : null;
  const [owned] = boxId
    ? await deps.db.select({ name: box.name }).from(box).where(eq(box.id, boxId)).limit(1)
    : [];
  const mail = alertMail(deps, alert, boxId === null ? null : (owned?.name ?? boxId));
  const rendered = renderAgentEmail({ markdown: mail.markdown });
  const from = deps.config.money.platformEmailFrom;
  try {
    const result = await deps.emailProvider.send({
      id: alert.id,
      from,
      to: [row.ownerEmail],
      subject: mail.subject,
      html: rendered.html,
      text: rendered.text,
      headers: { "Message-ID": `<${alert.id}@${senderDomain(from, deps.config.agentsDomain)}>` },
    });
    return { outcome: "sent", providerMessageId: result.providerMessageId };
  } catch (err) {
    if (err instanceof EmailSendError && !err.retryable) {
      throw new PermanentJobError(`${err.provider} refused the budget alert: ${err.message}`);
    }
    throw err;
  }
}
