import { describe, expect, it } from "vitest";
import { KeyedQueue, Semaphore } from "./concurrency";

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("KeyedQueue", () => {
  it("runs tasks of one key in order, one at a time, even when one fails", async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const gate = deferred();
    const first = queue.run("k", async () => {
      events.push("first:start");
      await gate.promise;
      events.push("first:end");
      throw new Error("first failed");
    });
    const second = queue.run("k", async () => {
      events.push("second");
      return 2;
    });
    const other = queue.run("other", async () => {
      events.push("other");
      return 3;
    });
    await expect(other).resolves.toBe(3);
    expect(events).toEqual(["first:start", "other"]);
    gate.resolve();
    await expect(first).rejects.toThrow("first failed");
    await expect(second).resolves.toBe(2);
    expect(events).toEqual(["first:start", "other", "first:end", "second"]);
    await Promise.resolve();
    expect(queue.size).toBe(0);
  });
});

describe("Semaphore", () => {
  it("never runs more than its limit at once", async () => {
    const semaphore = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const gates = [deferred(), deferred(), deferred()];
    const tasks = gates.map((gate) =>
      semaphore.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await gate.promise;
        active--;
      }),
    );
    await Promise.resolve();
    expect(semaphore.running).toBe(2);
    expect(semaphore.queued).toBe(1);
    for (const gate of gates) {
      gate.resolve();
    }
    await Promise.all(tasks);
    expect(peak).toBe(2);
    expect(semaphore.running).toBe(0);
  });

  it("rejects a limit below one", () => {
    expect(() => new Semaphore(0)).toThrow("positive integer");
  });
});
