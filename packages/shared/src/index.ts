export * from "./crypto";
export * from "./cron";
export * from "./ids";
export * from "./schemas";
export * from "./subdomain";
