import { boxNameSchema, skillNameSchema } from "@vps-claude/shared/schemas";
import { z } from "zod";

export const BOX_STATUSES = ["pending", "deploying", "running", "error", "deleting"] as const;

export const boxSchema = z.object({
  id: z.string(),
  name: z.string(),
  subdomain: z.string(),
  email: z.string(),
  status: z.enum(BOX_STATUSES),
  errorMessage: z.string().nullable(),
  skills: z.array(z.string()),
  spriteUrl: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const createBoxInput = z.object({
  name: boxNameSchema,
  skills: z.array(skillNameSchema).max(20, "at most 20 skills per box").default([]),
});

export const skillSchema = z.object({ name: z.string(), description: z.string() });
