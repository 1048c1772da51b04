import { describe, expect, it } from "vitest";
import { UsageMeter } from "./model-usage";

const sse = (events: object[]) =>
  events.map((event) => `event: x\ndata: ${JSON.stringify(event)}\n\n`).join("");

describe("UsageMeter", () => {
  it("reads SSE usage from message_start, overwritten by message_delta, across chunk boundaries", () => {
    const body = sse([
      {
        type: "message_start",
        message: { usage: { input_tokens: 120, output_tokens: 1, cache_read_input_tokens: 7 } },
      },
      { type: "content_block_delta", delta: { type: "text_delta", text: "hi" } },
      { type: "message_delta", usage: { output_tokens: 42, cache_creation_input_tokens: 3 } },
    ]);
    const meter = new UsageMeter("sse", 200);
    // Chunks cut mid-line, as TCP delivers them.
    for (let at = 0; at < body.length; at += 17) {
      meter.push(Buffer.from(body.slice(at, at + 17)));
    }
    expect(meter.finish()).toEqual({
      inputTokens: 120,
      outputTokens: 42,
      cacheReadTokens: 7,
      cacheWriteTokens: 3,
    });
    expect(meter.errorMessage).toBeUndefined();
  });

  it("ignores usage that is not a non-negative finite count", () => {
    const meter = new UsageMeter("sse", 200);
    meter.push(
      Buffer.from(
        sse([{ type: "message_start", message: { usage: { input_tokens: -5, output_tokens: "9" } } }]),
      ),
    );
    meter.push(Buffer.from('data: {not json, "message_delta"\n'));
    expect(meter.finish()).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
  });

  it("takes the error event of a stream as the upstream's message", () => {
    const meter = new UsageMeter("sse", 200);
    meter.push(Buffer.from(sse([{ type: "error", error: { type: "overloaded_error", message: "busy" } }])));
    meter.finish();
    expect(meter.errorMessage).toBe("overloaded_error: busy");
  });

  it("parses a JSON body at the end, and its error only on an error status", () => {
    const ok = new UsageMeter("json", 200);
    ok.push(Buffer.from('{"usage":{"input_tokens":10,'));
    ok.push(Buffer.from('"output_tokens":2},"error":{"message":"not an error"}}'));
    expect(ok.finish()).toMatchObject({ inputTokens: 10, outputTokens: 2 });
    expect(ok.errorMessage).toBeUndefined();

    const failed = new UsageMeter("json", 401);
    failed.push(Buffer.from('{"type":"error","error":{"type":"authentication_error","message":"bad key"}}'));
    failed.finish();
    expect(failed.errorMessage).toBe("authentication_error: bad key");
  });

  it("reads nothing from a body that is neither SSE nor JSON", () => {
    const meter = new UsageMeter("other", 200);
    meter.push(Buffer.from('{"usage":{"input_tokens":10}}'));
    expect(meter.finish().inputTokens).toBe(0);
  });
});
