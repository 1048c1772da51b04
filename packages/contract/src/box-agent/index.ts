export * from "./base";
export * from "./cron";
export * from "./email";
export * from "./health";
export * from "./procedures";
export * from "./runs";
export * from "./sessions";
