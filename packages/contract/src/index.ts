/**
 * The contracts of every wire, contract-first with oRPC: the user API (`/rpc`), the box API (`/box`)
 * and box-agent's own HTTP API. Servers `implement` them; every client is typed from them; test
 * fakes of our own APIs implement them too, so the type checker keeps all sides honest.
 */

export * from "./box/index";
export * as boxAgentWire from "./box-agent";
export { type BoxAgentContract, boxAgentContract } from "./box-agent";
export * from "./schemas/index";
export * from "./user/index";
export type { JsonOf } from "./wire";
