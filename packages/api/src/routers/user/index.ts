import { userApi } from "../../procedures";
import { agentConfigRouter } from "./agent-config";
import { boxRouter } from "./box";
import { budgetRouter } from "./budget";
import { credentialRouter } from "./credential";
import { cronjobRouter } from "./cronjob";
import { emailRouter } from "./email";
import { envVarRouter } from "./env-var";
import { filesRouter } from "./files";
import { networkPolicyRouter } from "./network-policy";
import { runRouter } from "./run";
import { deployRouter, sessionRouter } from "./session";
import { usageRouter } from "./usage";

/** Everything a signed-in user can call, served under /rpc: `userContract`, implemented. */
export const userRouter = userApi.router({
  box: boxRouter,
  cronjob: cronjobRouter,
  credential: credentialRouter,
  envVar: envVarRouter,
  agentConfig: agentConfigRouter,
  email: emailRouter,
  deploy: deployRouter,
  session: sessionRouter,
  files: filesRouter,
  networkPolicy: networkPolicyRouter,
  run: runRouter,
  budget: budgetRouter,
  usage: usageRouter,
});

export type UserRouter = typeof userRouter;
