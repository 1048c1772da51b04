import { z } from "zod";
import { idParam } from "../../schemas";
import {
  getBoxNetworkPolicy,
  MAX_POLICY_DOMAINS,
  NETWORK_POLICY_MODES,
  normalizeDomains,
  updateBoxNetworkPolicy,
} from "../../services/box/box-network-policy";
import { ownedBoxProcedure } from "./cronjob";

const tags = ["Boxes"];

const boxParams = z.object({ boxId: idParam });

export const networkPolicySchema = z.object({
  mode: z.enum(NETWORK_POLICY_MODES),
  domains: z.array(z.string()),
});

const domainsInput = z
  .array(z.string().max(300, "a domain is at most 253 characters"), {
    error: "domains must be a list of domain names",
  })
  // Room for duplicates that dedupe away; the real limit is checked after normalizing.
  .max(MAX_POLICY_DOMAINS * 5, `at most ${MAX_POLICY_DOMAINS} domains are allowed`)
  .default([])
  .transform((raw, ctx) => {
    const result = normalizeDomains(raw);
    if ("errors" in result) {
      for (const message of result.errors) {
        ctx.addIssue({ code: "custom", message });
      }
      return z.NEVER;
    }
    return result.domains;
  });

export const networkPolicyRouter = {
  get: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/network-policy",
      summary: "Where the box may connect: the whole internet, an allowlist of domains, or only the platform",
      tags,
    })
    .input(boxParams)
    .output(networkPolicySchema)
    .handler(({ context }) => getBoxNetworkPolicy(context.box)),

  update: ownedBoxProcedure
    .route({
      method: "PUT",
      path: "/box/{boxId}/network-policy",
      summary:
        "Set where the box may connect; applied to the running box at once and again at every deploy. Private, local and metadata addresses stay unreachable in every mode.",
      tags,
    })
    .input(
      boxParams.extend({
        mode: z.enum(NETWORK_POLICY_MODES, {
          error: "mode must be 'internet', 'allowlist' or 'platform'",
        }),
        domains: domainsInput,
      }),
    )
    .output(networkPolicySchema)
    .handler(({ context, input }) =>
      updateBoxNetworkPolicy({
        deps: context.deps,
        target: context.box,
        policy: { mode: input.mode, domains: input.domains },
      }),
    ),
};
