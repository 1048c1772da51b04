export * from "./cron";
export * from "./crypto";
export * from "./front-matter";
export * from "./ids";
export * from "./schemas";
export * from "./subdomain";
