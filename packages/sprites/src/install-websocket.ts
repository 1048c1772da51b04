import WebSocket from "ws";

// @fly/sprites opens sockets through the global WebSocket, which Node 20 lacks. This module must be
// imported before the SDK is used; later Node versions keep their own implementation.
const scope = globalThis as { WebSocket?: unknown };
if (typeof scope.WebSocket === "undefined") {
  scope.WebSocket = WebSocket;
}
