export * from "./box-agent-client";
export * from "./sprites-box-agent-client";
