import { z } from "zod";
import { checkCronExpression } from "./cron";

export const boxNameSchema = z
  .string()
  .trim()
  .min(1, "name must not be empty")
  .max(64, "name must be at most 64 characters");

/** The slug part of a subdomain: lowercase letters, digits and single hyphens. */
export const subdomainSchema = z
  .string()
  .min(3, "subdomain must be at least 3 characters")
  .max(63, "subdomain must be at most 63 characters")
  .regex(
    /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/,
    "subdomain may contain only lowercase letters, digits and single hyphens, and must start and end with a letter or digit",
  );

/** POSIX-portable environment variable names; reserved prefixes would let a user hijack the agent runtime. */
export const ENV_KEY_RESERVED_PREFIXES = ["BOX_AGENT_", "BOX_SECRET", "CLAUDE_CODE_", "SPRITE_"];
export const envVarKeySchema = z
  .string()
  .min(1, "key must not be empty")
  .max(128, "key must be at most 128 characters")
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    "key must start with a letter or underscore and contain only letters, digits and underscores",
  )
  .refine((key) => !ENV_KEY_RESERVED_PREFIXES.some((prefix) => key.toUpperCase().startsWith(prefix)), {
    message: `key must not start with a reserved prefix (${ENV_KEY_RESERVED_PREFIXES.join(", ")})`,
  });

export const MAX_SECRET_VALUE_BYTES = 32 * 1024;
export const secretValueSchema = z
  .string()
  .min(1, "value must not be empty")
  .refine((value) => Buffer.byteLength(value) <= MAX_SECRET_VALUE_BYTES, {
    message: `value must be at most ${MAX_SECRET_VALUE_BYTES / 1024} KiB`,
  });

export const cronExpressionSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const check = checkCronExpression(value);
    if (!check.ok) {
      ctx.addIssue({ code: "custom", message: `cron expression '${value}': ${check.reason}` });
    }
  });

export const timezoneSchema = z
  .string()
  .min(1)
  .refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: "timezone must be an IANA name such as 'UTC' or 'Europe/Berlin'" },
  );

export const emailAddressSchema = z.string().trim().toLowerCase().pipe(z.email("not a valid email address"));

export const skillNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "skill names are lowercase letters, digits and hyphens");

/** Credential keys name a provider secret, e.g. ANTHROPIC_API_KEY; same rules as env keys. */
export const credentialKeySchema = z
  .string()
  .min(1, "key must not be empty")
  .max(128, "key must be at most 128 characters")
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "key must contain only letters, digits and underscores");
