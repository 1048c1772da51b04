/**
 * The contracts of every wire, contract-first with oRPC: the user API (`/rpc`), the box API (`/box`)
 * and box-agent's own HTTP API. Servers `implement` them; every client is typed from them; test
 * fakes of our own APIs implement them too, so the type checker keeps all sides honest.
 */
export {};
