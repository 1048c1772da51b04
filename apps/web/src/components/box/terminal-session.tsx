"use client";

import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal as XTerm } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";

type Connection =
  | { state: "connecting" }
  | { state: "connected" }
  | { state: "disconnected"; reason: string };

/** A dropped connection (1006: no close frame, e.g. the network or a restart) is retried this often by itself. */
const AUTO_RECONNECTS = 3;
const ABNORMAL_CLOSURE = 1006;

function terminalUrl(boxId: string, cols: number, rows: number): string {
  const origin = window.location.origin.replace(/^http/, "ws");
  return `${origin}/rpc/box/${encodeURIComponent(boxId)}/terminal?cols=${cols}&rows=${rows}`;
}

/** xterm's `onBinary` hands over bytes as a string of code points 0–255. */
const binaryBytes = (data: string) => Uint8Array.from(data, (char) => char.charCodeAt(0));

function useXterm(container: React.RefObject<HTMLDivElement | null>) {
  const [xterm, setXterm] = useState<XTerm | null>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) {
      return;
    }
    const term = new XTerm({ cursorBlink: true, fontSize: 14, screenReaderMode: false });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);
    setXterm(term);
    return () => {
      observer.disconnect();
      term.dispose();
      setXterm(null);
    };
  }, [container]);
  return xterm;
}

/** One socket per attempt; `attempt` changing opens a new one (a new shell in the box). */
function useTerminalSocket(boxId: string, term: XTerm | null, attempt: number, retry: () => void) {
  const [connection, setConnection] = useState<Connection>({ state: "connecting" });
  const dropped = useRef(0);
  useEffect(() => {
    if (!term) {
      return;
    }
    let left = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    setConnection({ state: "connecting" });
    if (attempt > 0) {
      // What the old shell printed stays on screen; the new one starts below a visible seam.
      term.write("\r\n\x1b[2m— reconnecting: a new shell —\x1b[0m\r\n");
    }
    const socket = new WebSocket(terminalUrl(boxId, term.cols, term.rows));
    socket.binaryType = "arraybuffer";
    const send = (data: string | Uint8Array<ArrayBuffer>) => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(data);
      }
    };
    // Keystrokes travel as binary frames, so nothing typed or pasted is ever read as a control message.
    const encoder = new TextEncoder();
    const subscriptions = [
      term.onData((data) => send(encoder.encode(data))),
      term.onBinary((data) => send(binaryBytes(data))),
      term.onResize(({ cols, rows }) => send(JSON.stringify({ type: "resize", cols, rows }))),
    ];
    socket.onopen = () => {
      dropped.current = 0;
      setConnection({ state: "connected" });
      term.focus();
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer>) => term.write(new Uint8Array(event.data));
    socket.onclose = (event) => {
      if (left) {
        return;
      }
      if (event.code === ABNORMAL_CLOSURE && dropped.current < AUTO_RECONNECTS) {
        dropped.current += 1;
        setConnection({ state: "connecting" });
        retryTimer = setTimeout(retry, 1000 * 2 ** (dropped.current - 1));
        return;
      }
      setConnection({
        state: "disconnected",
        reason: event.reason || "the connection to the box was lost",
      });
    };
    return () => {
      left = true;
      clearTimeout(retryTimer);
      for (const subscription of subscriptions) {
        subscription.dispose();
      }
      socket.close(1000, "left the page");
    };
  }, [boxId, term, attempt, retry]);
  return connection;
}

const STATUS_TEXT: Record<Connection["state"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  disconnected: "Disconnected",
};

/** A shell in the box: xterm.js on a WebSocket to the API, through the dashboard's own origin. */
export function TerminalSession({ boxId }: { boxId: string }) {
  const container = useRef<HTMLDivElement>(null);
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => setAttempt((current) => current + 1), []);
  const term = useXterm(container);
  const connection = useTerminalSocket(boxId, term, attempt, retry);

  return (
    <section aria-label="Terminal" className="flex min-w-0 flex-col gap-2">
      <div className="flex items-center justify-between gap-2 text-sm">
        <p role="status" aria-live="polite" data-state={connection.state}>
          {STATUS_TEXT[connection.state]}
          {connection.state === "disconnected" ? ` — ${connection.reason}` : null}
        </p>
        {connection.state === "disconnected" ? (
          <Button size="sm" variant="outline" onClick={retry}>
            Reconnect
          </Button>
        ) : null}
      </div>
      <div ref={container} className="h-[28rem] w-full overflow-hidden rounded-md bg-black p-2" />
    </section>
  );
}
