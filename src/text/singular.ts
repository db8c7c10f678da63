// An English plural name word → its singular, for matching a table's name against its entity and its
// keys (`warehouses` ↔ warehouse_id, `order_statuses` ↔ status). Rules, not a dictionary: what table and
// column names use. A word that is not a plural is returned as it is.

/** Words ending in -us whose plural is -uses (status → statuses), unlike house → houses. */
const US_WORDS = new Set(['status', 'bus', 'campus', 'bonus', 'virus', 'census', 'focus', 'radius', 'surplus', 'syllabus', 'consensus', 'nexus', 'prospectus', 'stimulus', 'apparatus']);

/** The singular of a word, or of a phrase's last word (`order statuses` → order status). */
export function singularNoun(text: string): string {
  const last = /^(.*[^A-Za-z])?([A-Za-z]+)$/.exec(text);
  return last ? `${last[1] ?? ''}${singularWord(last[2]!)}` : text;
}

/** Words that end like a plural and are not one. */
const NOT_PLURAL = new Set(['news', 'series', 'species', 'means', 'physics', 'economics', 'analytics', 'logistics', 'statistics']);

function singularWord(word: string): string {
  const lower = word.toLowerCase();
  if (word.length <= 3 || NOT_PLURAL.has(lower)) return word;
  if (/ies$/i.test(word)) return word.slice(0, -3) + 'y';
  if (/(ss|us|is)$/i.test(word)) return word;
  if (/uses$/i.test(word) && US_WORDS.has(lower.slice(0, -2))) return word.slice(0, -2);
  if (/(ss|x|ch|sh|zz)es$/i.test(word) && !/caches$/i.test(word)) return word.slice(0, -2);
  if (/[^s]s$/i.test(word)) return word.slice(0, -1);
  return word;
}
