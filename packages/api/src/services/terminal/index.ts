export * from "./box-terminal";
export * from "./terminal-slots";
