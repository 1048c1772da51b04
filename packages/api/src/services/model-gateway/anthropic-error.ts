/** The Anthropic API's error types the gateway answers with when it refuses a request itself. */
export type AnthropicErrorType =
  | "authentication_error"
  | "billing_error"
  | "invalid_request_error"
  | "not_found_error"
  | "permission_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error";

export interface GatewayRefusal {
  status: number;
  type: AnthropicErrorType;
  message: string;
}

/**
 * A refusal in the API's own error shape, so Claude Code reports it as it would an API error
 * (`{"type":"error","error":{"type":…,"message":…}}`) instead of failing to parse it.
 */
export function anthropicErrorResponse({ status, type, message }: GatewayRefusal): Response {
  return new Response(JSON.stringify({ type: "error", error: { type, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}
