import { credentialKeySchema, envVarKeySchema, secretValueSchema } from "@vps-claude/shared/schemas";
import { z } from "zod";

export const credentialSchema = z.object({
  key: z.string(),
  maskedValue: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const credentialKey = credentialKeySchema;

export const ENV_VAR_TYPES = ["plain", "secret"] as const;

export const envVarSchema = z.object({
  key: z.string(),
  type: z.enum(ENV_VAR_TYPES),
  value: z.string().nullable(),
  maskedValue: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const envVarKey = envVarKeySchema;
export const envVarType = z.enum(ENV_VAR_TYPES);
export const secretValue = secretValueSchema;
