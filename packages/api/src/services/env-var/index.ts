export * from "./manage-env-vars";
