/**
 * Deterministic, local entity and relation extraction (no model, no network): run once when a
 * memory is written, so the source of truth stores the memory's graph facts and every graph
 * writer consumes the same ones.
 *
 * From the text: e-mail addresses, URLs, @handles, dates, numbers with units, proper-noun spans
 * (capitalised words; a sentence's first word only when it is not a common word), and
 * subject–verb–object triples between two of those in one sentence, from three patterns:
 *   "Alice's manager is Priya"          → (alice, MANAGER, priya)
 *   "Priya is the manager of Alice"     → (alice, MANAGER, priya)
 *   "Priya lives in Lisbon"             → (priya, LIVES_IN, lisbon)   (one to three words between)
 * Client-supplied entities and relations are always kept, and win on type.
 */
import type { FactEntity, FactRelation, GraphFacts, GraphInput } from "../domain/graph";
import { isStopword } from "../domain/stopwords";
import { normaliseName, normaliseRelation, normaliseType } from "./normalise";

/** Bounds on what one memory contributes (a huge text cannot explode the graph). */
export const MAX_FACT_ENTITIES = 64;
export const MAX_FACT_RELATIONS = 64;

interface Mention {
  start: number;
  end: number;
  text: string;
  type: string;
}

const MONTH = "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
const UNIT =
  "(?:%|percent|kg|g|mg|lbs?|km|m|cm|mm|mi|miles?|ft|feet|h|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|years?|l|ml|gb|mb|tb|usd|eur|gbp|dollars?|euros?|pounds?|people|users|items)";
const END = "(?![\\p{L}\\p{N}])";

/**
 * Typed patterns, most specific first; a later pattern never overlaps an earlier match.
 *
 * Every pattern runs in time linear in the text (test/abuse/extraction-backtracking.test.ts):
 * a pattern whose leading run can start anywhere inside a long run of the same characters
 * ("aaaa…" for the e-mail's local part, "1,1,1,…" for a quantity's digits) would rescan that
 * run from each of its positions when no match follows, so it may only start where the run
 * starts (the lookbehinds). A leftmost match starts there anyway, so results are unchanged but
 * for an address glued to the end of another one ("a@b.c._d@e.f" finds only the first).
 */
const PATTERNS: { type: string; re: RegExp }[] = [
  { type: "email", re: /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu },
  { type: "url", re: /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gu },
  { type: "handle", re: /(?<![\p{L}\p{N}@.])@[A-Za-z0-9_]{2,30}(?![\p{L}\p{N}@])/gu },
  {
    type: "date",
    re: new RegExp(
      [
        "\\b\\d{4}-\\d{2}-\\d{2}\\b",
        "\\b\\d{1,2}/\\d{1,2}/\\d{2,4}\\b",
        `\\b${MONTH}\\.? \\d{1,2}(?:st|nd|rd|th)?(?:,? \\d{4})?${END}`,
        `\\b\\d{1,2}(?:st|nd|rd|th)? (?:of )?${MONTH}(?: \\d{4})?${END}`,
        `\\b${MONTH} \\d{4}\\b`,
      ].join("|"),
      "gu",
    ),
  },
  {
    type: "quantity",
    re: new RegExp(
      `[$€£]\\s?\\d[\\d,]*(?:\\.\\d+)?(?:\\s?(?:k|m|bn|million|billion)${END})?|(?<!\\d,*)\\b\\d[\\d,]*(?:\\.\\d+)?\\s?${UNIT}${END}`,
      "giu",
    ),
  },
];

/** Words that start sentences without naming anything (checked in lower case, besides stopwords). */
const COMMON_STARTERS = new Set(
  `also always maybe please remember note call buy get send ask tell check book pay pick meet meeting lunch dinner
  breakfast today tomorrow yesterday tonight next last every each never sometimes often yes no ok okay thanks
  hi hello dear monday tuesday wednesday thursday friday saturday sunday weekend morning evening afternoon
  new old first second third finally then still already just todo reminder idea plan project team our
  my your his her their its we they he she it you i let lets need needs want wants like likes
  met went saw talked spoke told had got made found bought sent paid called asked moved started finished`.split(/\s+/),
);

/** Lower-case words allowed inside a proper-noun span ("Bank of America", "Leonardo da Vinci"). */
const CONNECTORS = new Set(["of", "de", "da", "del", "van", "von", "der", "la", "le", "du", "dos", "y"]);

const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}'’-]*/gu;
/** A possessive at the end of a mention: "Alice's", and "James'" (a bare apostrophe after s). */
const POSSESSIVE = /(?:['’]s|(?<=s)['’])$/u;

function isCapitalised(word: string): boolean {
  return /^\p{Lu}/u.test(word);
}

function atSentenceStart(text: string, index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === '"' || c === "“" || c === "'" || c === "(" || c === "*" || c === "-") continue;
    return c === "." || c === "!" || c === "?" || c === "\n" || c === ":" || c === ";";
  }
  return true;
}

function bareWord(word: string): string {
  return word.replace(/['’]s?$/u, "").toLowerCase();
}

/** Capitalised spans not covered by `taken` (a mask of characters already claimed). */
function properNouns(text: string, taken: Uint8Array): Mention[] {
  const words = [...text.matchAll(WORD)].map((m) => ({ start: m.index!, end: m.index! + m[0].length, word: m[0] }));
  const spans: Mention[] = [];
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (!isCapitalised(w.word) || taken[w.start] === 1) {
      i++;
      continue;
    }
    // Extend over capitalised words separated by one space, or by one connector word.
    let j = i;
    for (;;) {
      const next = words[j + 1];
      if (next === undefined || taken[next.start] === 1) break;
      const gap = text.slice(words[j]!.end, next.start);
      if (POSSESSIVE.test(words[j]!.word)) break; // "Alice's Bob" is two names
      if (gap === " " && isCapitalised(next.word)) {
        j++;
        continue;
      }
      const after = words[j + 2];
      if (
        gap === " " &&
        CONNECTORS.has(next.word) &&
        after !== undefined &&
        text.slice(next.end, after.start) === " " &&
        isCapitalised(after.word) &&
        taken[after.start] !== 1
      ) {
        j += 2;
        continue;
      }
      break;
    }
    let first = i;
    // A common word opening a sentence is not part of the name ("Call Priya", "The Alps").
    while (first <= j) {
      const lower = bareWord(words[first]!.word);
      const common = isStopword(lower) || COMMON_STARTERS.has(lower) || lower.length === 0;
      if (common && (first === i ? atSentenceStart(text, words[first]!.start) || isStopword(lower) : false)) first++;
      else break;
    }
    if (first <= j) {
      const start = words[first]!.start;
      const end = words[j]!.end;
      spans.push({ start, end, text: text.slice(start, end), type: "name" });
    }
    i = j + 1;
  }
  return spans;
}

function mentionsOf(text: string): Mention[] {
  const taken = new Uint8Array(text.length);
  const found: Mention[] = [];
  for (const { type, re } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const start = m.index!;
      const end = start + m[0].length;
      if (taken.subarray(start, end).some((x) => x === 1)) continue;
      taken.fill(1, start, end);
      found.push({ start, end, text: m[0], type });
    }
  }
  found.push(...properNouns(text, taken));
  return found.sort((a, b) => a.start - b.start);
}

const BE = /^(?:is|was|are|were)$/;
const ARTICLE = /^(?:the|a|an)$/;

/** The relation a sentence states between two consecutive mentions, if a pattern fits. */
function relationBetween(a: Mention, between: string, b: Mention): FactRelation | null {
  if (/[.!?;\n]/.test(between)) return null;
  const words = between.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0 || words.length > 5 || !words.every((w) => /^\p{Ll}[\p{Ll}'’-]*$/u.test(w))) return null;
  const source = normaliseName(a.text);
  const target = normaliseName(b.text);
  if (source === target || source === "" || target === "") return null;
  // "Alice's manager is Priya"
  if (POSSESSIVE.test(a.text) && words.length >= 2 && words.length <= 3 && BE.test(words[words.length - 1]!)) {
    return { source, relation: normaliseRelation(words.slice(0, -1).join(" ")), target };
  }
  // "Priya is the manager of Alice"
  if (words.length >= 3 && BE.test(words[0]!) && words[words.length - 1] === "of") {
    const role = words.slice(1, -1).filter((w) => !ARTICLE.test(w));
    if (role.length >= 1 && role.length <= 2) return { source: target, relation: normaliseRelation(role.join(" ")), target: source };
  }
  // "Priya lives in Lisbon", "Bob works at Acme", "Alice manages the Atlas team"
  const verb = words.filter((w) => !ARTICLE.test(w));
  while (verb.length > 1 && BE.test(verb[0]!)) verb.shift();
  if (verb.length === 0 || verb.length > 3 || verb.every((w) => isStopword(w)) || words.includes("and") || words.includes("or")) {
    return null;
  }
  return { source, relation: normaliseRelation(verb.join(" ")), target };
}

function sortedUniqueRelations(relations: FactRelation[]): FactRelation[] {
  const seen = new Map<string, FactRelation>();
  for (const r of relations) {
    if (r.source === "" || r.target === "" || r.relation === "" || r.source === r.target) continue;
    seen.set(JSON.stringify([r.source, r.relation, r.target]), r);
  }
  return [...seen.values()];
}

/** What the text itself says: entities and relations, before any client-supplied ones. */
export function extractFromText(text: string): GraphFacts {
  const mentions = mentionsOf(text).filter((m) => normaliseName(m.text) !== "");
  const relations: FactRelation[] = [];
  for (let i = 0; i + 1 < mentions.length; i++) {
    const a = mentions[i]!;
    const b = mentions[i + 1]!;
    const r = relationBetween(a, text.slice(a.end, b.start), b);
    if (r !== null) relations.push(r);
  }
  const entities = new Map<string, FactEntity>();
  for (const m of mentions) {
    const name = normaliseName(m.text);
    if (!entities.has(name)) entities.set(name, { name, display: m.text.replace(POSSESSIVE, "").trim(), type: m.type });
  }
  return { entities: [...entities.values()], relations: sortedUniqueRelations(relations) };
}

/**
 * Extraction reads at most this much of a memory's text. Linear patterns bound the cost per
 * character; this bounds the cost per memory (about 5 ms of prose on this kind of box), and a
 * memory rarely names more than MAX_FACT_ENTITIES things in its first 16 K characters anyway.
 */
export const MAX_EXTRACTION_CHARS = 16_384;

/** The part of `text` extraction reads: up to MAX_EXTRACTION_CHARS, cut before a word it would split. */
export function extractionWindow(text: string): string {
  if (text.length <= MAX_EXTRACTION_CHARS) return text;
  const cut = text.lastIndexOf(" ", MAX_EXTRACTION_CHARS);
  if (cut > MAX_EXTRACTION_CHARS - 200) return text.slice(0, cut);
  // no space near the cap: cut there, but never between the halves of a surrogate pair
  const code = text.charCodeAt(MAX_EXTRACTION_CHARS - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? MAX_EXTRACTION_CHARS - 1 : MAX_EXTRACTION_CHARS);
}

export type ExtractionMode = "auto" | "off";

const displayName = (raw: string) => raw.trim().replace(/['’]s$/u, "");

/**
 * The memory's graph facts: the client's entities and relations (always; their types win),
 * plus, in `auto` mode, what the text says (its first MAX_EXTRACTION_CHARS). Every relation endpoint is an entity of the memory.
 * Bounded by MAX_FACT_ENTITIES / MAX_FACT_RELATIONS (client facts first).
 */
export function graphFacts(content: string, input: GraphInput | undefined, mode: ExtractionMode): GraphFacts {
  const entities = new Map<string, FactEntity>();
  const relations: FactRelation[] = [];
  const add = (e: FactEntity) => {
    if (e.name === "" || entities.size >= MAX_FACT_ENTITIES) return;
    if (!entities.has(e.name)) entities.set(e.name, e);
  };
  for (const e of input?.entities ?? []) {
    add({ name: normaliseName(e.name), display: displayName(e.name), type: normaliseType(e.type ?? "thing") });
  }
  for (const r of input?.relations ?? []) {
    const source = normaliseName(r.source);
    const target = normaliseName(r.target);
    add({ name: source, display: displayName(r.source), type: "thing" });
    add({ name: target, display: displayName(r.target), type: "thing" });
    relations.push({ source, relation: normaliseRelation(r.relation), target });
  }
  if (mode === "auto") {
    const found = extractFromText(extractionWindow(content));
    for (const e of found.entities) add(e);
    relations.push(...found.relations);
  }
  const kept = sortedUniqueRelations(relations).filter((r) => entities.has(r.source) && entities.has(r.target));
  return { entities: [...entities.values()], relations: kept.slice(0, MAX_FACT_RELATIONS) };
}
