export * from "./generate-image";
export * from "./media-call";
export * from "./speech-to-text";
export * from "./text-to-speech";
