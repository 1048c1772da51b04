import { z } from "zod";

/**
 * The queues a producer outside a pipeline adds jobs to. The deploy pipeline's step queues are not
 * here: they come from its table in packages/api (services/deploy/pipeline.ts), which alone adds
 * jobs to them; its entry point, the orchestrator, is here because routes queue it.
 * Job data holds ids only: secrets and bodies are read from the database by the worker, so nothing
 * sensitive sits in Redis.
 */
export const QUEUES = {
  deployOrchestrator: "deploy-orchestrator",
  deleteBox: "delete-box",
  deliverEmail: "deliver-email",
  sendEmail: "send-email",
  budgetAlert: "budget-alert",
  triggerCronjob: "trigger-cronjob",
  followRun: "follow-run",
  reconcile: "reconcile",
} as const;

export type QueueKey = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueKey];

/** How BullMQ runs a job: attempts, the wait between them, and the hard limit for one attempt. */
export interface JobOptions {
  attempts: number;
  backoff: { type: "exponential" | "fixed"; delay: number };
  /** Hard limit for one attempt; the worker aborts the attempt after it. */
  timeoutMs: number;
}

/** Where a job runs and what BullMQ calls it: enough to add it and to start its worker. */
export interface QueueJob extends JobOptions {
  /** The BullMQ queue name. */
  queue: string;
  /** Namespaced job name as BullMQ records it. */
  name: string;
}

export interface JobDefinition<S extends z.ZodType> extends QueueJob {
  schema: S;
}

function job<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

export const JOBS = {
  deployOrchestrator: job({
    queue: QUEUES.deployOrchestrator,
    name: "deploy.orchestrator",
    schema: z.object({ boxId: z.string(), deployId: z.string() }),
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 5 * 60_000,
  }),
  deleteBox: job({
    queue: QUEUES.deleteBox,
    name: "box.delete",
    schema: z.object({ boxId: z.string() }),
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  deliverEmail: job({
    queue: QUEUES.deliverEmail,
    name: "email.deliver",
    schema: z.object({ emailId: z.string() }),
    // 30 s doubling: the 13th attempt comes about 34 hours after the first, so a box that is down
    // for a day still gets its mail.
    attempts: 13,
    backoff: { type: "exponential", delay: 30_000 },
    timeoutMs: 30_000,
  }),
  sendEmail: job({
    queue: QUEUES.sendEmail,
    name: "email.send",
    schema: z.object({ emailId: z.string() }),
    attempts: 8,
    backoff: { type: "exponential", delay: 5_000 },
    timeoutMs: 30_000,
  }),
  /** Emails the owner a budget alert (80 % or 100 % of a cap) from the platform's address, once per alert. */
  budgetAlert: job({
    queue: QUEUES.budgetAlert,
    name: "budget.alert",
    schema: z.object({ alertId: z.string() }),
    attempts: 8,
    backoff: { type: "exponential", delay: 5_000 },
    timeoutMs: 30_000,
  }),
  triggerCronjob: job({
    queue: QUEUES.triggerCronjob,
    name: "cronjob.trigger",
    schema: z.object({ cronjobId: z.string() }),
    attempts: 1,
    backoff: { type: "fixed", delay: 0 },
    // A tick only records itself and hands its run to run.follow, which wakes the box and follows the run.
    timeoutMs: 2 * 60_000,
  }),
  /**
   * Dispatches one run to its box (if not yet) and holds its event stream for the run's whole life:
   * stores each event, fans it out, and completes the run and what started it. One attempt lasts as
   * long as the longest run may (4 h) plus slack; a dropped stream is reconnected inside the attempt.
   * A killed worker's job stalls and is taken up again, resuming after the last stored event.
   */
  followRun: job({
    queue: QUEUES.followRun,
    name: "run.follow",
    schema: z.object({ runId: z.string() }),
    attempts: 5,
    backoff: { type: "exponential", delay: 5_000 },
    timeoutMs: 4 * 60 * 60_000 + 30 * 60_000,
  }),
  /**
   * Every minute: resolves runs, cron executions, deliveries and deploys left non-terminal past
   * their deadline (interrupted / failed with the reason).
   */
  reconcile: job({
    queue: QUEUES.reconcile,
    name: "platform.reconcile",
    schema: z.object({}).passthrough(),
    attempts: 1,
    backoff: { type: "fixed", delay: 0 },
    timeoutMs: 5 * 60_000,
  }),
} as const;

export type JobKey = keyof typeof JOBS;
export type JobData<K extends JobKey> = z.infer<(typeof JOBS)[K]["schema"]>;
