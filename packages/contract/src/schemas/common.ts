import { z } from "zod";

export const idParam = z.string().min(1).max(100);

export const boxParams = z.object({ boxId: idParam });

export const deletedSchema = z.object({ key: z.string(), deleted: z.literal(true) });

/** The refusal every route answers with: `{ code, message }` (oRPC routes add `status` and `defined`). */
export const errorAnswerSchema = z.object({ code: z.string().optional(), message: z.string() });
