import { oc } from "@orpc/contract";
import { z } from "zod";

/** What the platform reads of a box's answer at most, unless a route says it may carry more. */
export const DEFAULT_BOX_ANSWER_MAX_BYTES = 1024 * 1024;

export interface BoxAgentRouteMeta {
  /** The largest answer the platform reads from a box on this route; a bigger one is cut off and refused. */
  maxAnswerBytes?: number;
}

/**
 * Every route of box-agent's own HTTP API. The platform calls it through the sprite URL with the
 * box token in `x-box-secret`; box-agent answers refusals as `{ code, message }`.
 */
export const boxAgentRoute = oc.$meta<BoxAgentRouteMeta>({});

/** A box's answers are untrusted: each text field has a size the platform and the dashboard can hold. */
export const boxText = (max: number) => z.string().max(max);
