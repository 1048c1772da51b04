export * from "./complete-run";
export * from "./follow-run";
export * from "./redis-run-event-bus";
export * from "./run-deadline";
export * from "./start-run";
