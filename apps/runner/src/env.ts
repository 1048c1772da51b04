import { z } from "zod";

/** An empty variable counts as unset, as it does for the server. */
const optional = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));
const httpUrl = z.url({
  protocol: /^https?$/,
  error: "must be an http(s) URL such as http://localhost:33001",
});
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

const schema = z.object({
  PORT: port(33000),
  WEB_PORT: port(33001),
  SPRITES_LOCAL_PORT: port(33010),
  /** Where sprite URLs are served: an origin apart from the sprites-local API. */
  SPRITES_LOCAL_PROXY_PORT: port(33011),
  /** Interface the API and the dashboard listen on; the embedded default keeps everything on loopback. */
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: optional.pipe(httpUrl.optional()),
  SERVER_URL: optional.pipe(httpUrl.optional()),
  SERVER_ROLE: z.enum(["api", "worker", "all"]).default("all"),
  DATABASE_URL: optional,
  REDIS_URL: optional,
  BETTER_AUTH_SECRET: optional,
  ENCRYPTION_KEY: optional,
  SPRITES_TOKEN: optional,
  SPRITES_API_URL: optional,
  SPRITES_LOCAL_TOKEN: optional,
  TRUSTED_ORIGINS: optional,
});

export type RunnerEnv = z.infer<typeof schema> & { PUBLIC_URL: string; SERVER_URL: string };

/** The runner's only reader of its own settings; a typo fails before anything starts. */
export function loadRunnerEnv(env: NodeJS.ProcessEnv = process.env): RunnerEnv {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n");
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const parsed = result.data;
  return {
    ...parsed,
    PUBLIC_URL: parsed.PUBLIC_URL ?? `http://localhost:${parsed.WEB_PORT}`,
    SERVER_URL: parsed.SERVER_URL ?? `http://127.0.0.1:${parsed.PORT}`,
  };
}
