import { boxDeployStep, type Database } from "@vps-claude/db";
import { inArray } from "drizzle-orm";
import { type Distribution, distribution } from "../lib/distribution";
import type { SandboxCall } from "../lib/timed-sprites";
import type { DeployedBox } from "./deploy-boxes";

export interface StepSample {
  boxId: string;
  step: string;
  /** box_deploy_step.durationMs: from markStepRunning to markStepFinished. */
  durationMs: number;
  /** Wall time inside SpritesClient calls on this box's sprite during the step. */
  sandboxMs: number;
  /** durationMs − sandboxMs: the step's own work (DB reads and writes, secrets, bookkeeping). */
  inStepOverheadMs: number;
  /** From the previous step's end (for the first step: the POST) to this step's start: queueing and hand-off. */
  handoffMs: number;
  /** handoffMs + inStepOverheadMs: everything the step added beyond sandbox work. */
  overheadMs: number;
}

export interface StepReport {
  steps: number;
  /** Overhead per step, hand-off to the step included (the figure the aim is about). */
  overheadPerStep: Distribution;
  /** The same without the hand-off (only the time inside the step frame). */
  inStepOverheadPerStep: Distribution;
  handoffPerStep: Distribution;
  /** Share of deploy wall time spent inside sandbox calls. */
  sandboxShareOfDeploy: number;
  /** p50 per step name: where a deploy's time goes. */
  byStep: Record<
    string,
    { durationP50Ms: number; sandboxP50Ms: number; overheadP50Ms: number; handoffP50Ms: number }
  >;
}

type StepRow = Pick<
  typeof boxDeployStep.$inferSelect,
  "boxId" | "step" | "position" | "status" | "startedAt" | "completedAt" | "durationMs"
>;

function overlapMs(call: SandboxCall, fromMs: number, toMs: number): number {
  return Math.max(0, Math.min(call.endMs, toMs) - Math.max(call.startMs, fromMs));
}

export async function loadStepRows(db: Database, boxIds: string[]): Promise<StepRow[]> {
  return db
    .select({
      boxId: boxDeployStep.boxId,
      step: boxDeployStep.step,
      position: boxDeployStep.position,
      status: boxDeployStep.status,
      startedAt: boxDeployStep.startedAt,
      completedAt: boxDeployStep.completedAt,
      durationMs: boxDeployStep.durationMs,
    })
    .from(boxDeployStep)
    .where(inArray(boxDeployStep.boxId, boxIds));
}

/**
 * Splits each deploy step into sandbox time and platform time. Steps of one box run one after
 * another and every SpritesClient call names its sprite, so a call belongs to the step whose
 * [startedAt, completedAt] window it falls in on the same sprite.
 */
export function stepSamples(rows: StepRow[], boxes: DeployedBox[], calls: SandboxCall[]): StepSample[] {
  const samples: StepSample[] = [];
  for (const deployed of boxes) {
    const steps = rows.filter((row) => row.boxId === deployed.id).sort((a, b) => a.position - b.position);
    const spriteCalls = calls.filter((call) => call.sprite === deployed.spriteName);
    let previousEndMs = deployed.requestedAtMs;
    for (const row of steps) {
      if (row.status !== "completed" || !row.startedAt || !row.completedAt) {
        throw new Error(`step ${row.step} of box ${deployed.id} is ${row.status}, expected completed`);
      }
      const startMs = row.startedAt.getTime();
      const endMs = row.completedAt.getTime();
      const durationMs = row.durationMs ?? endMs - startMs;
      const sandboxMs = spriteCalls.reduce((sum, call) => sum + overlapMs(call, startMs, endMs), 0);
      const handoffMs = Math.max(0, startMs - previousEndMs);
      samples.push({
        boxId: deployed.id,
        step: row.step,
        durationMs,
        sandboxMs,
        inStepOverheadMs: Math.max(0, durationMs - sandboxMs),
        handoffMs,
        overheadMs: handoffMs + Math.max(0, durationMs - sandboxMs),
      });
      previousEndMs = endMs;
    }
  }
  return samples;
}

export function summarizeSteps(samples: StepSample[], boxes: DeployedBox[]): StepReport {
  const byStep: StepReport["byStep"] = {};
  for (const name of [...new Set(samples.map((sample) => sample.step))]) {
    const of = samples.filter((sample) => sample.step === name);
    byStep[name] = {
      durationP50Ms: distribution(of.map((s) => s.durationMs)).p50Ms,
      sandboxP50Ms: distribution(of.map((s) => s.sandboxMs)).p50Ms,
      overheadP50Ms: distribution(of.map((s) => s.inStepOverheadMs)).p50Ms,
      handoffP50Ms: distribution(of.map((s) => s.handoffMs)).p50Ms,
    };
  }
  const deployMs = boxes.reduce((sum, deployed) => sum + (deployed.runningAtMs - deployed.requestedAtMs), 0);
  const sandboxMs = samples.reduce((sum, sample) => sum + sample.sandboxMs, 0);
  return {
    steps: samples.length,
    overheadPerStep: distribution(samples.map((s) => s.overheadMs)),
    inStepOverheadPerStep: distribution(samples.map((s) => s.inStepOverheadMs)),
    handoffPerStep: distribution(samples.map((s) => s.handoffMs)),
    sandboxShareOfDeploy: Math.round((sandboxMs / deployMs) * 1000) / 1000,
    byStep,
  };
}

/** p50 and total wall time per SpritesClient method, over the calls made during a phase. */
export function summarizeSandboxCalls(calls: SandboxCall[]) {
  const byMethod: Record<string, { calls: number; p50Ms: number; p95Ms: number; failed: number }> = {};
  for (const method of [...new Set(calls.map((call) => call.method))]) {
    const of = calls.filter((call) => call.method === method);
    const spread = distribution(of.map((call) => call.endMs - call.startMs));
    byMethod[method] = {
      calls: of.length,
      p50Ms: spread.p50Ms,
      p95Ms: spread.p95Ms,
      failed: of.filter((call) => call.failed).length,
    };
  }
  return byMethod;
}
