import { agentConfigRouter } from "./agent-config";
import { boxRouter } from "./box";
import { credentialRouter } from "./credential";
import { cronjobRouter } from "./cronjob";
import { envVarRouter } from "./env-var";

/** Everything a signed-in user can call, served under /rpc. */
export const userRouter = {
  box: boxRouter,
  cronjob: cronjobRouter,
  credential: credentialRouter,
  envVar: envVarRouter,
  agentConfig: agentConfigRouter,
};

export type UserRouter = typeof userRouter;
