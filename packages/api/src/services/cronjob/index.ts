export * from "./cronjob-dto";
export * from "./manage-cronjobs";
export * from "./sync-cronjob-schedule";
export * from "./trigger-cronjob";
