import { z } from "zod";
import { boxAgentRoute, boxText } from "./base";

export const boxAgentHealthSchema = z.object({
  ok: z.boolean(),
  boxId: boxText(100),
  version: boxText(100).optional(),
  /** Seconds since the daemon started. */
  uptime: z.number().optional(),
});

export type BoxAgentHealth = z.output<typeof boxAgentHealthSchema>;

/** The one route open without the box token: the deploy's health check and the wake-up call use it. */
export const health = boxAgentRoute.route({ method: "GET", path: "/health" }).output(boxAgentHealthSchema);
