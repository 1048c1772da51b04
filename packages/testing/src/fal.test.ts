import { ApiError, createFalClient, ValidationError } from "@fal-ai/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeFal, startFakeFal } from "./fal";

let fake: FakeFal;

beforeEach(async () => {
  fake = await startFakeFal();
});

afterEach(async () => {
  await fake.close();
});

/** What packages/ai does with FAL_BASE_URL: every fal host is replaced by the configured base. */
function clientFor(baseUrl: string, credentials = fake.apiKey) {
  return createFalClient({
    credentials,
    requestMiddleware: async (request) => ({
      ...request,
      url: request.url.replace(/^https:\/\/(?:[a-z]+\.)?fal\.(?:run|ai)/, baseUrl),
    }),
  });
}

interface FluxOutput {
  images: { url: string; width: number; height: number; content_type: string }[];
  seed: number;
}

describe("fake fal", () => {
  it("runs fal-ai/flux/dev through subscribe: submit, poll status, fetch result", async () => {
    const fal = clientFor(fake.url);
    const updates: string[] = [];
    const result = await fal.subscribe("fal-ai/flux/dev", {
      input: { prompt: "a lighthouse", image_size: "square", num_images: 2, seed: 7 },
      pollInterval: 10,
      onQueueUpdate: (update) => updates.push(update.status),
    });
    const data = result.data as FluxOutput;
    expect(result.requestId).toBe(fake.submissions[0]?.requestId);
    expect(data.seed).toBe(7);
    expect(data.images).toHaveLength(2);
    expect(data.images[0]).toMatchObject({ width: 512, height: 512, content_type: "image/png" });
    expect(updates).toEqual(["IN_PROGRESS", "COMPLETED"]);

    const image = await fetch(data.images[0]?.url ?? "");
    expect(image.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(bytes.readUInt32BE(16)).toBe(512);

    const paths = fake.requests.map((request) => `${request.method} ${request.path}`);
    const id = result.requestId;
    expect(paths).toEqual([
      "POST /fal-ai/flux/dev",
      `GET /fal-ai/flux/requests/${id}/status`,
      `GET /fal-ai/flux/requests/${id}/status`,
      `GET /fal-ai/flux/requests/${id}`,
      `GET /files/${data.images[0]?.url.split("/files/")[1]}`,
    ]);
    expect(fake.requests[0]?.headers.authorization).toBe(`Key ${fake.apiKey}`);
    expect(fake.submissions[0]?.input).toMatchObject({ prompt: "a lighthouse" });
  });

  it("answers the queue API step by step with x-fal-request-id", async () => {
    const fal = clientFor(fake.url);
    const submitted = await fal.queue.submit("fal-ai/flux/schnell", { input: { prompt: "x" } });
    expect(submitted.status).toBe("IN_QUEUE");
    const status = await fal.queue.status("fal-ai/flux/schnell", { requestId: submitted.request_id });
    expect(status.status).toBe("IN_PROGRESS");
    await fal.queue.status("fal-ai/flux/schnell", { requestId: submitted.request_id });
    const result = await fal.queue.result("fal-ai/flux/schnell", { requestId: submitted.request_id });
    expect(result.requestId).toBe(submitted.request_id);
  });

  it("rejects a bad key", async () => {
    const fal = clientFor(fake.url, "wrong:key");
    await expect(fal.queue.submit("fal-ai/flux/dev", { input: { prompt: "x" } })).rejects.toMatchObject({
      status: 401,
    });
  });

  it("reports a missing prompt as a 422 ValidationError with field errors", async () => {
    const fal = clientFor(fake.url);
    fake.pollsBeforeCompleted = 0;
    const error = await fal
      .subscribe("fal-ai/flux/dev", { input: { prompt: "" }, pollInterval: 10 })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).getFieldErrors("prompt")[0]?.msg).toBe("field required");
  });

  it("fails requests and HTTP calls as instructed", async () => {
    const fal = clientFor(fake.url);
    fake.pollsBeforeCompleted = 0;
    fake.failNextRequests({ status: 500, detail: "CUDA out of memory" });
    const modelError = await fal
      .subscribe("fal-ai/flux/dev", { input: { prompt: "x" }, pollInterval: 10 })
      .catch((err: unknown) => err);
    expect(modelError).toBeInstanceOf(ApiError);
    expect((modelError as ApiError<unknown>).status).toBe(500);
    expect((modelError as ApiError<{ detail: string }>).body.detail).toBe("CUDA out of memory");

    fake.failNext({ status: 400, message: "bad request" }, { stage: "submit" });
    await expect(fal.queue.submit("fal-ai/flux/dev", { input: { prompt: "x" } })).rejects.toMatchObject({
      status: 400,
      body: { detail: "bad request" },
    });
  });

  it("is retried by the SDK on 503", async () => {
    const fal = clientFor(fake.url);
    fake.failNext({ status: 503 }, { stage: "submit" });
    const submitted = await fal.queue.submit("fal-ai/flux/dev", { input: { prompt: "x" } });
    expect(submitted.request_id).toBeTruthy();
    expect(fake.requests.filter((request) => request.method === "POST")).toHaveLength(2);
  });

  it("serves custom endpoints through setHandler", async () => {
    const fal = clientFor(fake.url);
    fake.pollsBeforeCompleted = 0;
    fake.setHandler("fal-ai/echo", (input) => ({ status: 200, output: { echoed: input.text } }));
    const result = await fal.subscribe("fal-ai/echo", { input: { text: "hi" }, pollInterval: 10 });
    expect(result.data).toEqual({ echoed: "hi" });
    await expect(fal.queue.submit("fal-ai/unknown", { input: {} })).rejects.toMatchObject({ status: 404 });
  });
});
