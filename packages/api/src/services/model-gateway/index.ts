export * from "./admit-model-request";
export * from "./anthropic-error";
export * from "./model-gateway";
export * from "./model-usage";
export * from "./record-model-request";
export * from "./resolve-model-key";
