/** NDJSON (newline-delimited JSON, one value a line): the media type of export and import. */
export const NDJSON = "application/x-ndjson";

/** Whether a Content-Type header names NDJSON (parameters such as charset aside). */
export function isNdjson(contentType: string | null | undefined): boolean {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase() === NDJSON;
}

const encoder = new TextEncoder();

/** Values as NDJSON bytes, each on its own line. */
export function ndjsonLines(values: unknown[]): Uint8Array {
  let text = "";
  for (const value of values) text += `${JSON.stringify(value)}\n`;
  return encoder.encode(text);
}
