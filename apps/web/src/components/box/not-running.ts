import type { BoxStatus } from "@/lib/box";

/** Why a tab that needs the box's sandbox (files, terminal) cannot show it now, and what to do. */
export const NOT_RUNNING: Record<Exclude<BoxStatus, "running">, string> = {
  pending: "It is waiting for its deploy to start; follow it on the Overview tab.",
  deploying: "It is still deploying; follow it on the Overview tab.",
  error: "Its last deploy failed: redeploy it with the button above, then come back.",
  deleting: "It is being deleted, files and all.",
};
