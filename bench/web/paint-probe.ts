/**
 * Injected into every page before its own scripts (`addInitScript`), the dashboard's and the bare
 * one alike: when a text carrying a step marker `[#n]` first enters the DOM, it notes the time of
 * the frame after (a task queued from `requestAnimationFrame` runs once that frame is painted), on
 * the epoch clock the other processes use (`performance.timeOrigin + performance.now()`). It also
 * notes when a run stream's response arrived, so events emitted before the stream was open (served
 * as catch-up) can be told from live ones.
 */
export const PAINT_PROBE = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const painted = {};
  window.__painted = painted;
  window.__streamOpenedAt = null;
  const marker = /\\[#(\\d+)\\]/g;
  const look = (node) => {
    for (const match of (node.textContent || "").matchAll(marker)) {
      const step = match[1];
      if (!(step in painted)) {
        painted[step] = null;
        requestAnimationFrame(() => setTimeout(() => { painted[step] = now(); }, 0));
      }
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "characterData") look(record.target);
      else record.addedNodes.forEach(look);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
  const fetchOriginal = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await fetchOriginal(input, init);
    const url = typeof input === "string" ? input : input instanceof Request ? input.url : String(input);
    if (url.includes("/stream") && window.__streamOpenedAt === null) window.__streamOpenedAt = now();
    return response;
  };
})();`;

export interface PaintProbeReading {
  /** Step number → epoch ms its text was painted (null: seen, frame not yet painted). */
  painted: Record<string, number | null>;
  streamOpenedAt: number | null;
}

export const READ_PROBE = "({ painted: window.__painted, streamOpenedAt: window.__streamOpenedAt })";
