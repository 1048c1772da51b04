export {
  type EmbeddedPostgres,
  type StartEmbeddedPostgresOptions,
  startEmbeddedPostgres,
  stopStalePostgres,
  waitForPostgres,
} from "./postgres";
export {
  findFreePort,
  findOnPath,
  isAlive,
  readCommandLine,
  terminate,
  withParentDeathSignal,
} from "./process-utils";
export {
  type EmbeddedRedis,
  pingRedis,
  type StartEmbeddedRedisOptions,
  startEmbeddedRedis,
  stopStaleRedis,
} from "./redis";
export { type GeneratedSecrets, loadOrCreateSecrets, SECRETS_FILE_NAME } from "./secrets";
