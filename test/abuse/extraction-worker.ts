/**
 * Runs extraction on the texts it is sent, off the test's thread: a pattern that backtracks
 * holds the thread that runs it, and a test's own timeout cannot fire on a held thread (before
 * the fix, a test that ran extraction inline "passed" after 318 s). The test keeps the clock.
 */
import { extractFromText } from "../../src/graph/extract";

declare const self: Worker;

self.onmessage = (event: MessageEvent<{ name: string; text: string }>) => {
  const { name, text } = event.data;
  postMessage({ name, entities: extractFromText(text).entities.length });
};
