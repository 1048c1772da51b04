export * from "./box-agent-answers";
export * from "./box-agent-client";
export * from "./sprites-box-agent-client";
