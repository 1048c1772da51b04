import { OpenAPIGenerator } from "@orpc/openapi";
import { ZodToJsonSchemaConverter } from "@orpc/zod/zod4";
import { boxApiRouter, userRouter } from "@vps-claude/api";

let cached: Promise<Record<string, unknown>> | undefined;

/** One document for both surfaces: user routes under /rpc (session cookie), box routes under /box (X-Box-Secret). */
export function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  cached ??= build();
  return cached;
}

async function build(): Promise<Record<string, unknown>> {
  const generator = new OpenAPIGenerator({ schemaConverters: [new ZodToJsonSchemaConverter()] });
  const info = { title: "VPS Claude API", version: "1.0.0" };
  const [user, box] = await Promise.all([
    generator.generate(userRouter, { info }),
    generator.generate(boxApiRouter, { info }),
  ]);
  const paths: Record<string, unknown> = {};
  for (const [path, item] of Object.entries(user.paths ?? {})) {
    paths[`/rpc${path}`] = item;
  }
  for (const [path, item] of Object.entries(box.paths ?? {})) {
    paths[`/box${path}`] = item;
  }
  return {
    openapi: user.openapi,
    info: {
      ...info,
      description:
        "User routes (/rpc) authenticate with the better-auth session cookie from /api/auth/sign-in/email. " +
        "Box routes (/box) authenticate with the box's token in the X-Box-Secret header.",
    },
    paths,
    components: { ...(user.components ?? {}), ...(box.components ?? {}) },
  };
}
