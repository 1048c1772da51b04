export * from "./base";
export * from "./email";
export * from "./health";
export * from "./procedures";
export * from "./runs";
export * from "./sessions";
