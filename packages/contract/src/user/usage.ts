import { oc } from "@orpc/contract";
import { boxParams } from "../schemas/common";
import {
  boxBudgetSchema,
  setBudgetInput,
  usageQueryInput,
  usageReportSchema,
  userBudgetSchema,
} from "../schemas/usage";

const tags = ["Usage"];

export const usageContract = {
  report: oc
    .route({
      method: "GET",
      path: "/usage",
      summary: "Spend and tokens from the ledger, summed per day, box, model or trigger",
      tags,
    })
    .input(usageQueryInput)
    .output(usageReportSchema),
};

export const budgetContract = {
  get: oc
    .route({ method: "GET", path: "/budget", summary: "Your monthly budget and this month's spend", tags })
    .output(userBudgetSchema),
  set: oc
    .route({ method: "PUT", path: "/budget", summary: "Set (or clear) your monthly budget", tags })
    .input(setBudgetInput)
    .output(userBudgetSchema),
  getBox: oc
    .route({ method: "GET", path: "/box/{boxId}/budget", summary: "A box's monthly budget and spend", tags })
    .input(boxParams)
    .output(boxBudgetSchema),
  setBox: oc
    .route({
      method: "PUT",
      path: "/box/{boxId}/budget",
      summary: "Set (or clear) a box's monthly budget",
      tags,
    })
    .input(boxParams.extend(setBudgetInput.shape))
    .output(boxBudgetSchema),
};
