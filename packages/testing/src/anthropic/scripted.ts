import type { AnthropicConversation, AnthropicToolResult } from "./conversation";
import type { AnthropicReply } from "./index";

export interface ScriptTurn {
  /** The latest user text (no tool results, no system reminders); "" when there is none. */
  prompt: string;
  conversation: AnthropicConversation;
  /** With a RegExp `when`: its match on the prompt. */
  match?: RegExpExecArray;
}

type Condition = string | RegExp | ((turn: ScriptTurn) => boolean);

export interface ScriptRule {
  /** A substring of the prompt, a pattern, any test of the turn, or a list of them that must all hold. */
  when: Condition | Condition[];
  reply: AnthropicReply | ((turn: ScriptTurn) => AnthropicReply);
}

export interface ScriptedClaudeOptions {
  /** Tried in order on each new prompt; the first that matches answers. */
  rules?: ScriptRule[];
  /** A prompt no rule matched; defaults to echoing it: "You said: <prompt>". */
  otherwise?: (turn: ScriptTurn) => AnthropicReply;
  /**
   * The model's answer once the tools it called have answered (ending the turn); defaults to one
   * line per result: "<tool> answered: <text>" or "<tool> failed: <text>".
   */
  afterTools?: (results: AnthropicToolResult[], conversation: AnthropicConversation) => AnthropicReply;
}

/** The default `afterTools`: what each tool said, so a test can read the outcome in the run's final text. */
export function describeToolResults(results: AnthropicToolResult[]): string {
  return results
    .map((result) => `${result.toolName} ${result.isError ? "failed" : "answered"}: ${result.text}`)
    .join("\n");
}

function matches(when: Condition | Condition[], turn: ScriptTurn): ScriptTurn | undefined {
  if (Array.isArray(when)) {
    let matched: ScriptTurn | undefined = turn;
    for (const condition of when) {
      matched = matched && matches(condition, matched);
    }
    return matched;
  }
  if (typeof when === "string") {
    return turn.prompt.includes(when) ? turn : undefined;
  }
  if (when instanceof RegExp) {
    const match = when.exec(turn.prompt);
    return match ? { ...turn, match } : undefined;
  }
  return when(turn) ? turn : undefined;
}

/**
 * A responder for the fake Messages API written as rules: "on a prompt containing X, call tool Y with
 * input Z", "once the tools answered, reply with what they said", "else echo the prompt". Each rule
 * answers one model request, so a rule that calls a tool is followed by `afterTools` on the next request.
 */
export function scriptedClaude({
  rules = [],
  otherwise = ({ prompt }) => `You said: ${prompt}`,
  afterTools = describeToolResults,
}: ScriptedClaudeOptions = {}): (conversation: AnthropicConversation) => AnthropicReply {
  return (conversation) => {
    const pending = conversation.pendingToolResults();
    if (pending.length > 0) {
      return afterTools(pending, conversation);
    }
    const turn: ScriptTurn = { prompt: conversation.lastUserText() ?? "", conversation };
    for (const rule of rules) {
      const matched = matches(rule.when, turn);
      if (matched) {
        return typeof rule.reply === "function" ? rule.reply(matched) : rule.reply;
      }
    }
    return otherwise(turn);
  };
}
