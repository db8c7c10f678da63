// Robust JSON extraction from what chat models actually answer: a bare JSON document, a ```json fenced
// block, JSON wrapped in prose, answers that start with a <think>…</think> block (reasoning models), and
// arrays cut off by a token limit (the complete elements are kept). Pure functions, no I/O.

/** Removes <think>…</think> (and <thinking>, <reasoning>) blocks, including an unterminated leading one. */
export function stripThinking(text: string): string {
  let out = text.replace(/<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi, '');
  // A block that was opened but never closed (answer truncated inside the reasoning, or a server that
  // only sends the closing tag): drop everything up to a lone closing tag, or the unterminated block.
  const close = /<\/(think|thinking|reasoning)>/i.exec(out);
  if (close) out = out.slice(close.index + close[0].length);
  out = out.replace(/<(think|thinking|reasoning)>[\s\S]*$/i, '');
  return out.trim();
}

export interface ExtractedJson {
  value: unknown;
  /** True when the text held a truncated array and only its complete elements were recovered. */
  partial: boolean;
}

export class JsonExtractionError extends Error {
  constructor(
    message: string,
    readonly text: string,
  ) {
    super(message);
    this.name = 'JsonExtractionError';
  }
}

/**
 * Finds the JSON document in a model's answer. Order: the whole text; each fenced block; the first
 * balanced {...} or [...] in the text (strings and escapes respected); finally a truncated array or an
 * object whose one array property was truncated, keeping the complete elements. Throws
 * JsonExtractionError when nothing usable is found.
 */
export function extractJson(raw: string): ExtractedJson {
  const text = stripThinking(raw);
  const direct = tryParse(text);
  if (direct.ok) return { value: direct.value, partial: false };

  for (const fence of text.matchAll(/```[ \t]*([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)(?:```|$)/g)) {
    const body = fence[2]!.trim();
    const parsed = tryParse(body);
    if (parsed.ok) return { value: parsed.value, partial: false };
    const inner = firstBalanced(body);
    if (inner !== undefined) return inner;
  }

  const found = firstBalanced(text);
  if (found !== undefined) return found;

  throw new JsonExtractionError(`no JSON found in the answer (${text.length} chars): ${preview(text)}`, raw);
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat || '(empty)';
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (!t || !/^[[{"\d-]|^(true|false|null)$/.test(t)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    // Common model slips: trailing commas before a closing bracket.
    const relaxed = t.replace(/,\s*([}\]])/g, '$1');
    if (relaxed !== t) {
      try {
        return { ok: true, value: JSON.parse(relaxed) };
      } catch {
        /* fall through */
      }
    }
    return { ok: false };
  }
}

/** Scans for a JSON value starting at each `{` or `[`: the first balanced one that parses, or, when a
 * value runs off the end of the text (a truncated answer), its complete elements. */
function firstBalanced(text: string): ExtractedJson | undefined {
  for (let start = 0; start < text.length; start++) {
    const ch = text[start];
    if (ch !== '{' && ch !== '[') continue;
    const end = matchingEnd(text, start);
    if (end === -1) continue;
    if (end === TRUNCATED) {
      const recovered = recoverTruncated(text.slice(start));
      if (recovered !== undefined) return { value: recovered, partial: true };
      continue;
    }
    const parsed = tryParse(text.slice(start, end + 1));
    if (parsed.ok) return { value: parsed.value, partial: false };
  }
  return undefined;
}

const TRUNCATED = -2;

/** The brackets of a JSON-ish text from `start` on, skipping those inside strings (escapes respected). */
function* brackets(text: string, start: number): Generator<{ ch: string; i: number }> {
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[' || ch === '}' || ch === ']') yield { ch, i };
  }
}

const CLOSER: Record<string, string> = { '{': '}', '[': ']' };

/** Index of the bracket closing the one at `start`; -1 on a mismatched bracket, TRUNCATED when the text
 * ends first. */
function matchingEnd(text: string, start: number): number {
  const stack: string[] = [];
  for (const { ch, i } of brackets(text, start)) {
    if (CLOSER[ch]) stack.push(CLOSER[ch]);
    else {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return TRUNCATED;
}

/**
 * A truncated answer: `[ {..}, {..}, {..` or `{"pairs": [ {..}, {..`. Keeps the complete elements of the
 * outermost array that was cut off, closes the open brackets, and parses. Undefined when nothing complete.
 */
function recoverTruncated(text: string): unknown {
  const start = text.search(/[[{]/);
  if (start === -1) return undefined;
  const stack: string[] = [];
  /** Just after the last complete element of an array, with the closers still open there. */
  let lastCut: { at: number; closers: string } | undefined;
  for (const { ch, i } of brackets(text, start)) {
    if (CLOSER[ch]) {
      stack.push(CLOSER[ch]);
      continue;
    }
    stack.pop();
    if (stack.length === 0) return undefined; // balanced: not a truncation (and it did not parse)
    if (stack.at(-1) === ']') lastCut = { at: i + 1, closers: [...stack].reverse().join('') };
  }
  if (!lastCut) return undefined;
  const parsed = tryParse(text.slice(start, lastCut.at) + lastCut.closers);
  return parsed.ok ? parsed.value : undefined;
}
