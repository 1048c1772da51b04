import { createFalClient } from "@fal-ai/client";
import { ProviderResponseError } from "./errors";
import { downloadMedia } from "./media";
import { imageUsage, PRICES } from "./prices";
import type { ImageRequest, ImageResult, Provider } from "./types";

export const FAL_IMAGE_MODEL = "fal-ai/flux/dev";

export interface FalOptions {
  apiKey: string;
  /** Replaces fal's fixed hosts (queue.fal.run, fal.run, rest.fal.ai), e.g. a proxy or a test fake. */
  baseUrl?: string;
  pollIntervalMs?: number;
  maxDownloadBytes: number;
}

const FAL_HOSTS = /^https:\/\/(?:[a-z]+\.)?fal\.(?:run|ai)(?=\/|$)/;

interface FluxOutput {
  images?: { url?: unknown; content_type?: unknown }[];
}

export function createFalImageProvider(options: FalOptions): Provider<ImageRequest, ImageResult> {
  const base = options.baseUrl?.replace(/\/+$/, "");
  const fal = createFalClient({
    credentials: options.apiKey,
    requestMiddleware: async (request) =>
      base ? { ...request, url: request.url.replace(FAL_HOSTS, base) } : request,
  });
  return {
    name: "fal",
    async run({ prompt, size, count }, signal) {
      const result = await fal.subscribe(FAL_IMAGE_MODEL, {
        input: { prompt, image_size: size, num_images: count, output_format: "png" },
        pollInterval: options.pollIntervalMs ?? 1000,
        abortSignal: signal,
      });
      const urls = ((result.data as FluxOutput).images ?? []).map((image) => image.url);
      if (urls.length === 0 || !urls.every((url): url is string => typeof url === "string")) {
        throw new ProviderResponseError(`${FAL_IMAGE_MODEL} returned no image URLs`);
      }
      const images = await Promise.all(
        urls.map((url) => downloadMedia(url, "image", { maxBytes: options.maxDownloadBytes, signal })),
      );
      return {
        images,
        model: FAL_IMAGE_MODEL,
        usage: imageUsage("fal", images.length, PRICES.falFluxDevPerImage),
      };
    },
  };
}
