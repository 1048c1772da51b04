import { describe, expect, it } from "vitest";
import { CleanupStack } from "./cleanup-stack";

describe("CleanupStack", () => {
  it("undoes newest first, neighbours of one kind together", async () => {
    const stack = new CleanupStack();
    const events: string[] = [];
    const entry = (name: string) => async () => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`end ${name}`);
    };
    stack.push("lock", "lock", entry("lock"));
    stack.push("postgres", "infrastructure", entry("postgres"));
    stack.push("redis", "infrastructure", entry("redis"));
    stack.push("server", "process", entry("server"));
    stack.push("web", "process", entry("web"));
    await stack.unwind();
    expect(events).toEqual([
      "start web",
      "start server",
      "end web",
      "end server",
      "start redis",
      "start postgres",
      "end redis",
      "end postgres",
      "start lock",
      "end lock",
    ]);
  });

  it("goes on past a failing entry and undoes what is pushed while unwinding", async () => {
    const stack = new CleanupStack();
    const done: string[] = [];
    stack.push("postgres", "infrastructure", async () => {
      done.push("postgres");
    });
    stack.push("server", "process", async () => {
      stack.push("late child", "process", async () => {
        done.push("late child");
      });
      throw new Error("did not stop");
    });
    await stack.unwind();
    expect(done).toEqual(["late child", "postgres"]);
  });
});
