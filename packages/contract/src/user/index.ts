import type { InferContractRouterInputs, InferContractRouterOutputs } from "@orpc/contract";
import { agentConfigContract } from "./agent-config";
import { boxesContract } from "./box";
import { credentialContract } from "./credential";
import { cronjobContract } from "./cronjob";
import { emailContract } from "./email";
import { envVarContract } from "./env-var";
import { filesContract } from "./files";
import { networkPolicyContract } from "./network-policy";
import { runContract } from "./run";
import { deployContract, sessionContract } from "./session";
import { budgetContract, usageContract } from "./usage";

/** Everything a signed-in user can call, served under /rpc (session cookie). */
export const userContract = {
  box: boxesContract,
  cronjob: cronjobContract,
  credential: credentialContract,
  envVar: envVarContract,
  agentConfig: agentConfigContract,
  email: emailContract,
  deploy: deployContract,
  session: sessionContract,
  files: filesContract,
  networkPolicy: networkPolicyContract,
  run: runContract,
  usage: usageContract,
  budget: budgetContract,
};

export type UserContract = typeof userContract;
export type UserInputs = InferContractRouterInputs<UserContract>;
export type UserOutputs = InferContractRouterOutputs<UserContract>;
