// Identifiers as words: snake_case, camelCase, digits, and flat lower-case compounds split by the
// lexicon's vocabulary where the split is known (`numcitedby` → num cited by, `crmordcustid` → crm ord
// cust id). Used by the hashing-zh-v2 … -v4 embedders and by the documents the load step builds.
import type { Lexicon } from './lexicon.ts';

/** Shortest part worth trying to split as a flat compound. */
const MIN_COMPOUND = 5;

function known(word: string, lexicon: Pick<Lexicon, 'isWord'>): boolean {
  if (lexicon.isWord(word)) return true;
  // Inflected forms of a known word: papers, cited, citing, reviewer.
  for (const [suffix, replacement] of [['s', ''], ['es', ''], ['ed', ''], ['ed', 'e'], ['ing', ''], ['ing', 'e'], ['er', ''], ['ies', 'y']] as const) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix) && lexicon.isWord(word.slice(0, -suffix.length) + replacement)) return true;
  }
  return false;
}

/**
 * Best split of a lower-case run into known words (dynamic programming: a known word of n ≥ 2 letters
 * scores n², an unknown letter −1); undefined unless known words cover all but a few letters.
 */
export function splitCompound(run: string, lexicon: Pick<Lexicon, 'isWord'>): string[] | undefined {
  const n = run.length;
  const best: Array<{ score: number; parts: string[] } | undefined> = new Array(n + 1);
  best[0] = { score: 0, parts: [] };
  for (let i = 0; i < n; i += 1) {
    const here = best[i];
    if (!here) continue;
    const relax = (j: number, score: number, part: string, unknownLetter: boolean) => {
      const candidate = { score: here.score + score, parts: [...here.parts] };
      if (unknownLetter && candidate.parts.length && /^\?/.test(candidate.parts.at(-1)!)) candidate.parts[candidate.parts.length - 1] += part;
      else candidate.parts.push(unknownLetter ? `?${part}` : part);
      if (!best[j] || best[j]!.score < candidate.score) best[j] = candidate;
    };
    relax(i + 1, -1, run[i]!, true);
    for (let j = i + 2; j <= n; j += 1) {
      const part = run.slice(i, j);
      if (known(part, lexicon)) relax(j, part.length * part.length, part, false);
    }
  }
  const result = best[n]!;
  const parts = result.parts.map((p) => p.replace(/^\?/, ''));
  const unknownLetters = result.parts.filter((p) => p.startsWith('?')).reduce((sum, p) => sum + p.length - 1, 0);
  const knownParts = result.parts.filter((p) => !p.startsWith('?')).length;
  if (parts.length < 2 || knownParts === 0 || unknownLetters > Math.max(2, Math.floor(n / 4))) return undefined;
  return parts;
}

/** Words of an identifier, lower-cased, in order: `tblPrescriptionItem` → tbl prescription item. */
export function identifierWords(identifier: string, lexicon: Pick<Lexicon, 'isWord'>): string[] {
  const out: string[] = [];
  const spaced = identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .replace(/([0-9])([A-Za-z])/g, '$1 $2');
  for (const raw of spaced.split(/[^A-Za-z0-9]+/)) {
    if (!raw) continue;
    const part = raw.toLowerCase();
    if (part.length >= MIN_COMPOUND && /^[a-z]+$/.test(part) && !known(part, lexicon)) {
      const split = splitCompound(part, lexicon);
      if (split) {
        out.push(...split);
        continue;
      }
    }
    out.push(part);
  }
  return out;
}
