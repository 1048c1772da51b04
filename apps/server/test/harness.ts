/** The server tests' names for the one platform harness (`@vps-claude/testing/platform`). */
export {
  createScratchDatabase as createTestDatabase,
  type Platform as TestServer,
  type StartPlatformOptions as StartTestServerOptions,
  signedInClient,
  startPlatform as startTestServer,
  TestClient,
  testBoxAgentBundle,
  waitFor,
} from "@vps-claude/testing/platform";
