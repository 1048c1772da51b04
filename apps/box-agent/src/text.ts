// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const LINE_BREAKS_AND_CONTROLS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/** Text flattened to one line of at most `max` characters, for headers and list entries. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(LINE_BREAKS_AND_CONTROLS, " ").replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
