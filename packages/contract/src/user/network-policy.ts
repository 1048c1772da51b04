import { oc } from "@orpc/contract";
import { boxParams } from "../schemas/common";
import { networkPolicySchema, updateNetworkPolicyInput } from "../schemas/network-policy";

const tags = ["Boxes"];

export const networkPolicyContract = {
  get: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/network-policy",
      summary: "Where the box may connect: the whole internet, an allowlist of domains, or only the platform",
      tags,
    })
    .input(boxParams)
    .output(networkPolicySchema),

  update: oc
    .route({
      method: "PUT",
      path: "/box/{boxId}/network-policy",
      summary:
        "Set where the box may connect; applied to the running box at once and again at every deploy. Private, local and metadata addresses stay unreachable in every mode.",
      tags,
    })
    .input(boxParams.extend(updateNetworkPolicyInput.shape))
    .output(networkPolicySchema),
};
