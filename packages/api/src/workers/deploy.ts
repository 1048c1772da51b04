import type { Logger } from "@vps-claude/logger";
import { createWorker, DEPLOY_STEP_JOBS, type DeployStepKey, JOBS, QUEUES } from "@vps-claude/queue";
import type { Redis } from "@vps-claude/redis";
import { type Job, WaitingChildrenError, type Worker } from "bullmq";
import type { ApiDeps } from "../deps";
import type { DeployRuntime } from "../services/deploy/deploy-runtime";
import {
  createSpriteStep,
  enableAccessStep,
  finalizeStep,
  healthCheckStep,
  installSkillStep,
  type StepDeps,
  setupStep,
} from "../services/deploy/deploy-step-work";
import { installSkillStep as installSkillName } from "../services/deploy/deploy-steps";
import { orchestrateDeploy, stepJobId } from "../services/deploy/orchestrate-deploy";
import { type CurrentBox, runDeployStep, type StepOutcome } from "../services/deploy/run-deploy-step";

interface DeployWorkersOptions {
  deps: ApiDeps;
  runtime: DeployRuntime;
  connection: Redis;
  prefix: string;
  logger: Logger;
  /** BullMQ lock duration; a dead worker's job is picked up again after it (tests shorten it). */
  lockDurationMs?: number;
}

/** Steps mostly wait on the sandbox provider, so many run at once per process. */
const STEP_CONCURRENCY = 20;

type StepWork = (stepDeps: StepDeps, current: CurrentBox, job: Job) => Promise<StepOutcome>;

const STEP_WORK: Record<Exclude<DeployStepKey, "skillsGate" | "installSkill">, StepWork> = {
  createSprite: (d, current) => createSpriteStep(d, current),
  setupStep: (d, current) => setupStep(d, current),
  healthCheck: (d, current) => healthCheckStep(d, current),
  enableAccess: (d, current) => enableAccessStep(d, current),
  finalize: (d, current, job) => finalizeStep(d, current, String(job.data.deployId)),
};

export function startDeployWorkers({
  deps,
  runtime,
  connection,
  prefix,
  logger,
  lockDurationMs,
}: DeployWorkersOptions): Worker[] {
  const stepDeps: StepDeps = { deps, runtime };
  const workerOptions = lockDurationMs
    ? { lockDuration: lockDurationMs, stalledInterval: lockDurationMs }
    : undefined;
  const workers: Worker[] = [];

  workers.push(
    createWorker({
      queue: "deployOrchestrator",
      connection,
      prefix,
      logger,
      timeoutMs: JOBS.deployOrchestrator.timeoutMs,
      workerOptions,
      handler: (job, ctx) => {
        const data = JOBS.deployOrchestrator.schema.parse(job.data);
        return runDeployStep({
          db: deps.db,
          logger: ctx.logger,
          job: { data },
          ctx,
          step: "orchestrator",
          work: async () => {
            const result = await orchestrateDeploy({ db: deps.db, queues: deps.queues, ...data });
            return result.started
              ? { log: "deploy planned and queued" }
              : { status: "skipped", log: result.reason };
          },
        });
      },
    }),
  );

  for (const key of Object.keys(STEP_WORK) as (keyof typeof STEP_WORK)[]) {
    const def = DEPLOY_STEP_JOBS[key];
    const work = STEP_WORK[key];
    workers.push(
      createWorker({
        queue: def.queue,
        connection,
        prefix,
        logger,
        timeoutMs: def.timeoutMs,
        concurrency: STEP_CONCURRENCY,
        workerOptions,
        handler: (job, ctx) =>
          runDeployStep({
            db: deps.db,
            logger: ctx.logger,
            job: { data: def.schema.parse(job.data) },
            ctx,
            step: key,
            work: (current) => work(stepDeps, current, job),
          }),
      }),
    );
  }

  workers.push(
    createWorker({
      queue: "deploySkillsGate",
      connection,
      prefix,
      logger,
      timeoutMs: DEPLOY_STEP_JOBS.skillsGate.timeoutMs,
      concurrency: STEP_CONCURRENCY,
      workerOptions,
      handler: async (job, ctx) => {
        const data = DEPLOY_STEP_JOBS.skillsGate.schema.parse(job.data);
        return runDeployStep({
          db: deps.db,
          logger: ctx.logger,
          job: { data },
          ctx,
          step: "skillsGate",
          work: async (current) => {
            if (current.skills.length === 0) {
              return { log: "no skills to install" };
            }
            // The install jobs become this job's children; it then waits for all of them and runs
            // again (completing) once they are done. Fixed job ids make a retry add nothing twice.
            const def = DEPLOY_STEP_JOBS.installSkill;
            const queue = deps.queues.get(def.queue);
            for (const skill of current.skills) {
              await queue.add(
                def.name,
                { ...data, skill },
                {
                  jobId: stepJobId(data.deployId, installSkillName(skill)),
                  parent: { id: String(job.id), queue: job.queueQualifiedName },
                  attempts: def.attempts,
                  backoff: def.backoff,
                  failParentOnFailure: true,
                  removeOnComplete: { age: 24 * 3600 },
                  removeOnFail: { age: 7 * 24 * 3600 },
                },
              );
            }
            if (await job.moveToWaitingChildren(ctx.token ?? "")) {
              throw new WaitingChildrenError();
            }
            return { log: `installed ${current.skills.join(", ")}` };
          },
        });
      },
    }),
  );

  workers.push(
    createWorker({
      queue: "deployInstallSkill",
      connection,
      prefix,
      logger,
      concurrency: STEP_CONCURRENCY,
      timeoutMs: DEPLOY_STEP_JOBS.installSkill.timeoutMs,
      workerOptions,
      handler: (job, ctx) => {
        const data = DEPLOY_STEP_JOBS.installSkill.schema.parse(job.data);
        return runDeployStep({
          db: deps.db,
          logger: ctx.logger,
          job: { data },
          ctx,
          step: installSkillName(data.skill),
          work: (current) => installSkillStep(stepDeps, current, data.skill),
        });
      },
    }),
  );

  logger.debug(
    { queues: Object.values(QUEUES).filter((q) => q.startsWith("deploy")) },
    "deploy workers started",
  );
  return workers;
}
