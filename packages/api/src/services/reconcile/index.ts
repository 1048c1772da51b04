export { type ReconcileSummary, reconcilePlatform } from "./reconcile-platform";
export { RECONCILE_SCHEDULER_ID, scheduleReconcile } from "./schedule-reconcile";
