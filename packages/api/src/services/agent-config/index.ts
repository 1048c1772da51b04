export * from "./manage-agent-config";
