export * from "./skill-catalog";
