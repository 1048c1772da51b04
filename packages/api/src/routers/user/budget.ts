import { ownedBoxProcedure, protectedProcedure } from "../../procedures";
import { getBoxBudget, getUserBudget, setBoxBudget, setUserBudget } from "../../services/usage/budget";

const budget = protectedProcedure.budget;
const boxBudget = ownedBoxProcedure.budget;

export const budgetRouter = {
  get: budget.get.handler(({ context }) => getUserBudget({ deps: context.deps, userId: context.user.id })),

  set: budget.set.handler(({ context, input }) =>
    setUserBudget({ deps: context.deps, userId: context.user.id, monthlyUsd: input.monthlyUsd }),
  ),

  getBox: boxBudget.getBox.handler(({ context }) =>
    getBoxBudget({ deps: context.deps, target: context.box }),
  ),

  setBox: boxBudget.setBox.handler(({ context, input }) =>
    setBoxBudget({ deps: context.deps, target: context.box, monthlyUsd: input.monthlyUsd }),
  ),
};
