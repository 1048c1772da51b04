export * from "./manage-credentials";
