export * from "./client";
export * from "./migrate";
export * from "./prepared";
export * from "./schema/index";
