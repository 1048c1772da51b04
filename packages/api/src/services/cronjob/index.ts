export * from "./cronjob-dto";
export * from "./execution-status";
export * from "./finish-cron-execution";
export * from "./manage-cronjobs";
export * from "./sync-cronjob-schedule";
export * from "./trigger-cronjob";
