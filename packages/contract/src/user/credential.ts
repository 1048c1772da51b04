import { oc } from "@orpc/contract";
import { z } from "zod";
import { deletedSchema } from "../schemas/common";
import { credentialKey, credentialSchema, secretValue } from "../schemas/secrets";

const tags = ["Credentials"];

export const credentialContract = {
  list: oc
    .route({ method: "GET", path: "/credentials", summary: "List your credentials (values masked)", tags })
    .output(z.array(credentialSchema)),

  create: oc
    .route({ method: "POST", path: "/credentials", successStatus: 201, summary: "Store a credential", tags })
    .input(z.object({ key: credentialKey, value: secretValue }))
    .output(credentialSchema),

  update: oc
    .route({ method: "PUT", path: "/credentials/{key}", summary: "Replace a credential's value", tags })
    .input(z.object({ key: credentialKey, value: secretValue }))
    .output(credentialSchema),

  delete: oc
    .route({ method: "DELETE", path: "/credentials/{key}", summary: "Delete a credential", tags })
    .input(z.object({ key: credentialKey }))
    .output(deletedSchema),
};
