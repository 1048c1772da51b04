import {
  type AnyContractProcedure,
  type InferContractRouterInputs,
  type InferContractRouterOutputs,
  isContractProcedure,
} from "@orpc/contract";
import type { BoxAgentRouteMeta } from "./base";
import { email } from "./email";
import { health } from "./health";
import { runs } from "./runs";
import { sessions } from "./sessions";

/**
 * box-agent's own HTTP API, the one the platform calls on each box (`/runs/*`, `POST /email/receive`,
 * `/sessions/list`, `/health`). `POST /email/send` is not here: it passes the box API's `email.send`
 * through as it is, so that contract types it.
 */
export const boxAgentContract = { health, sessions, email, runs };

export type BoxAgentContract = typeof boxAgentContract;

type ProcedureKeys<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends AnyContractProcedure
    ? `${Prefix}${K}`
    : ProcedureKeys<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

type ProcedureAt<T, Key extends string> = Key extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? ProcedureAt<T[Head], Rest>
    : never
  : Key extends keyof T
    ? T[Key]
    : never;

/** A route named by its place in the contract: `"health"`, `"runs.create"`, `"email.receive"`, … */
export type BoxAgentProcedureKey = ProcedureKeys<BoxAgentContract>;
export type BoxAgentProcedure<K extends BoxAgentProcedureKey> = ProcedureAt<BoxAgentContract, K>;
/** What the caller sends (before defaults). */
export type BoxAgentInput<K extends BoxAgentProcedureKey> = InferContractRouterInputs<BoxAgentProcedure<K>>;
/** What the platform gets once the answer passed the contract's output schema. */
export type BoxAgentOutput<K extends BoxAgentProcedureKey> = InferContractRouterOutputs<BoxAgentProcedure<K>>;

export function boxAgentProcedure(key: BoxAgentProcedureKey): AnyContractProcedure & {
  "~orpc": { meta: BoxAgentRouteMeta };
} {
  let node: unknown = boxAgentContract;
  for (const part of key.split(".")) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (!isContractProcedure(node)) {
    throw new Error(`box-agent's contract has no route '${key}'`);
  }
  return node;
}
