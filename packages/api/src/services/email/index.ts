export * from "./deliver-inbound-email";
export * from "./email-dto";
export * from "./fetch-resend-inbound";
export * from "./manage-emails";
export * from "./queue-outbound-email";
export * from "./receive-inbound-email";
export * from "./resolve-thread";
export * from "./send-outbound-email";
