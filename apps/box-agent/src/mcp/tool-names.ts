/** The name Claude knows our MCP server by; tool names become `mcp__box-agent__<tool>`. */
export const BOX_AGENT_MCP_SERVER = "box-agent";

/** Every tool `box-agent mcp` registers. Runs allow each by its full name rather than by a wildcard. */
export const BOX_AGENT_TOOLS = [
  "email_send",
  "email_list",
  "email_read",
  "generate_image",
  "text_to_speech",
  "speech_to_text",
  "cronjob_list",
  "cronjob_create",
  "cronjob_update",
  "cronjob_delete",
  "cronjob_toggle",
] as const;

export type BoxAgentToolName = (typeof BOX_AGENT_TOOLS)[number];

export function qualifiedToolName(tool: BoxAgentToolName): string {
  return `mcp__${BOX_AGENT_MCP_SERVER}__${tool}`;
}
