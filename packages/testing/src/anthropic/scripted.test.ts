import { describe, expect, it } from "vitest";
import { AnthropicConversation, anthropicReply, type MessagesRequestBody } from "./index";
import { describeToolResults, scriptedClaude } from "./scripted";

const prompt = (text: string): MessagesRequestBody => ({
  messages: [{ role: "user", content: [{ type: "text", text }] }],
});

const afterToolCall = (name: string, result: string, isError = false): MessagesRequestBody => ({
  messages: [
    { role: "user", content: "do it" },
    { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name, input: {} }] },
    {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "toolu_1", content: result, is_error: isError }],
    },
  ],
});

const ask = (responder: ReturnType<typeof scriptedClaude>, body: MessagesRequestBody) =>
  responder(new AnthropicConversation(body));

describe("scriptedClaude", () => {
  it("echoes a prompt no rule matches, and says what each tool answered", () => {
    const claude = scriptedClaude();
    expect(ask(claude, prompt("hello"))).toBe("You said: hello");
    expect(ask(claude, afterToolCall("mcp__box-agent__email_send", "sent"))).toBe(
      "mcp__box-agent__email_send answered: sent",
    );
    expect(ask(claude, afterToolCall("Bash", "boom", true))).toBe("Bash failed: boom");
  });

  it("answers with the first rule that matches: substring, pattern with its match, predicate", () => {
    const claude = scriptedClaude({
      rules: [
        { when: "SCHEDULE", reply: anthropicReply.toolUse("cronjob_create", { schedule: "0 9 * * *" }) },
        { when: /\b(email_\w+)\b/, reply: ({ match }) => `read ${match?.[1]}` },
        { when: [/\b(task_\w+)\b/, "DONE"], reply: ({ match }) => `closed ${match?.[1]}` },
        { when: ({ prompt }) => prompt.length > 20, reply: "long" },
        { when: "SCHEDULE or not", reply: "never: an earlier rule wins" },
      ],
      otherwise: () => "nothing to do",
    });
    expect(ask(claude, prompt("SCHEDULE or not"))).toEqual({
      text: undefined,
      toolUses: [{ name: "cronjob_create", input: { schedule: "0 9 * * *" } }],
    });
    expect(ask(claude, prompt("look at email_abc please"))).toBe("read email_abc");
    expect(ask(claude, prompt("task_7 is DONE"))).toBe("closed task_7");
    expect(ask(claude, prompt("task_7 is open"))).toBe("nothing to do");
    expect(ask(claude, prompt("a prompt longer than twenty characters"))).toBe("long");
    expect(ask(claude, prompt("short"))).toBe("nothing to do");
  });

  it("lets afterTools decide the answer once tools answered", () => {
    const claude = scriptedClaude({
      afterTools: (results) => `Handled: ${results.map((result) => result.toolName).join(", ")}`,
    });
    expect(ask(claude, afterToolCall("email_read", "{}"))).toBe("Handled: email_read");
    expect(describeToolResults([])).toBe("");
  });
});
