export * from "./rotate-encryption-key";
