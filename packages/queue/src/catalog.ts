import { z } from "zod";

/**
 * Every queue and the jobs it carries. Job data holds ids only: secrets and bodies are read from
 * the database by the worker, so nothing sensitive sits in Redis.
 */
export const QUEUES = {
  deployOrchestrator: "deploy-orchestrator",
  deployCreateSprite: "deploy-create-sprite",
  deploySetup: "deploy-setup",
  deployHealthCheck: "deploy-health-check",
  deploySkillsGate: "deploy-skills-gate",
  deployInstallSkill: "deploy-install-skill",
  deployEnableAccess: "deploy-enable-access",
  deployFinalize: "deploy-finalize",
  deleteBox: "delete-box",
  deliverEmail: "deliver-email",
  sendEmail: "send-email",
  triggerCronjob: "trigger-cronjob",
} as const;

export type QueueKey = keyof typeof QUEUES;
export type QueueName = (typeof QUEUES)[QueueKey];

const deployStepData = z.object({ boxId: z.string(), deployId: z.string() });

export interface JobDefinition<S extends z.ZodType> {
  queue: QueueKey;
  /** Namespaced job name as BullMQ records it. */
  name: string;
  schema: S;
  attempts: number;
  backoff: { type: "exponential" | "fixed"; delay: number };
  /** Hard limit for one attempt; the worker aborts the attempt after it. */
  timeoutMs: number;
}

function job<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

export const JOBS = {
  deployOrchestrator: job({
    queue: "deployOrchestrator",
    name: "deploy.orchestrator",
    schema: deployStepData,
    attempts: 3,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 5 * 60_000,
  }),
  deleteBox: job({
    queue: "deleteBox",
    name: "box.delete",
    schema: z.object({ boxId: z.string() }),
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000 },
    timeoutMs: 60_000,
  }),
  deliverEmail: job({
    queue: "deliverEmail",
    name: "email.deliver",
    schema: z.object({ emailId: z.string() }),
    attempts: 20,
    backoff: { type: "exponential", delay: 10_000 },
    timeoutMs: 30_000,
  }),
  sendEmail: job({
    queue: "sendEmail",
    name: "email.send",
    schema: z.object({ emailId: z.string() }),
    attempts: 8,
    backoff: { type: "exponential", delay: 5_000 },
    timeoutMs: 30_000,
  }),
  triggerCronjob: job({
    queue: "triggerCronjob",
    name: "cronjob.trigger",
    schema: z.object({ cronjobId: z.string() }),
    attempts: 1,
    backoff: { type: "fixed", delay: 0 },
    timeoutMs: 5 * 60_000,
  }),
} as const;

export type JobKey = keyof typeof JOBS;
export type JobData<K extends JobKey> = z.infer<(typeof JOBS)[K]["schema"]>;
