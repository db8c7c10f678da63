// The offline generator for one theme: every template of the template table (templates/) is tried on
// every table of the theme; the drafts are deduplicated on their signature (entity × measure × aggregate
// × grouping × filter kind) across the whole run, then picked for a spread — the four complexity levels
// by quota (a one-table theme has no join quota), business tables and columns not covered yet first, no
// template family twice in a row — and each pick is checked against the database (it must run and
// should return a row) and by the semantic self-check before it is accepted. Deterministic for a seed.
import type { Lang } from '../../messages.ts';
import type { CatalogModel, TableModel } from './catalog.ts';
import type { PairCollector } from './collector.ts';
import type { ExecutionChecker } from './execution-check.ts';
import { classifySql, COMPLEXITY_LEVELS, type Complexity } from './sql-analysis.ts';
import { signatureKey, TEMPLATES, type Draft } from './templates/index.ts';
import type { GeneratedPair, Theme, ThemeOutcome } from './types.ts';

/** Share of each complexity level in a theme's pairs. */
export const LEVEL_WEIGHTS: Record<Complexity, number> = { single_table: 0.2, join: 0.3, aggregate: 0.3, window_cte: 0.2 };

/** Whole-number quotas that add up to n (largest remainders); levels a theme cannot have get none. */
export function levelQuotas(n: number, without: Complexity[] = []): Record<Complexity, number> {
  const levels = COMPLEXITY_LEVELS.filter((l) => !without.includes(l));
  const weight = levels.reduce((a, l) => a + LEVEL_WEIGHTS[l], 0);
  const raw = levels.map((l) => ({ l, v: (n * LEVEL_WEIGHTS[l]) / weight }));
  const out = { single_table: 0, join: 0, aggregate: 0, window_cte: 0 } as Record<Complexity, number>;
  for (const { l, v } of raw) out[l] = Math.floor(v);
  let left = n - Object.values(out).reduce((a, b) => a + b, 0);
  for (const { l } of [...raw].sort((a, b) => (b.v % 1) - (a.v % 1))) {
    if (left <= 0) break;
    out[l] += 1;
    left -= 1;
  }
  return out;
}

export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** A semantic self-check of a candidate (the sql_validation linter when available): a reason, or null. */
export type PairLinter = (pair: { question: string; sql: string }) => Promise<string | null>;

/** What style a wording is (for the coverage report). */
function styleOf(question: string): string {
  if (/^(帮我|我想|Can you|Could you|Show me|I'd like)/i.test(question)) return 'colloquial';
  if (/[？?]$/.test(question)) return 'question';
  return 'imperative';
}

/** Every draft of every template on the theme's tables (partitions are never queried). */
export function themeDrafts(catalog: CatalogModel, theme: Theme): Draft[] {
  const inTheme = new Set(theme.tables);
  const tables = theme.tables.map((k) => catalog.table(k)).filter((t): t is TableModel => Boolean(t && !t.partition));
  const out: Draft[] = [];
  for (const table of tables) {
    const ctx = { catalog, table, inTheme: (t: TableModel) => inTheme.has(t.key) };
    // The theme's anchor comes first; its neighbours fill in (and get covered).
    const bonus = table.key === theme.anchor ? 3 : 0;
    for (const template of TEMPLATES) if (template.applies(ctx)) for (const d of template.build(ctx)) out.push({ ...d, priority: d.priority + bonus });
  }
  return out;
}

interface Candidate {
  draft: Draft;
  level: Complexity;
  signature: string;
  family: string;
  tableCount: number;
}

export async function offlinePairsForTheme(args: {
  catalog: CatalogModel;
  theme: Theme;
  themeIndex: number;
  lang: Lang;
  seed: number;
  count: number;
  collector: PairCollector;
  check?: ExecutionChecker;
  lint?: PairLinter;
  /** Tables that anchor a theme of the run: each is covered by its own theme, not sought by others. */
  anchors?: Set<string>;
  signal?: AbortSignal;
}): Promise<OfflineThemeOutcome> {
  const { catalog, theme, lang, count, collector, check } = args;
  const dropped: Record<string, number> = {};
  const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);

  // Parse every draft once (its level is what the parser says); the first draft of a signature wins.
  const bySignature = new Map<string, Candidate>();
  const repeats: Candidate[] = [];
  for (const draft of themeDrafts(catalog, theme)) {
    const outcome = classifySql(draft.sql);
    if (!outcome.ok) {
      drop(outcome.reason);
      continue;
    }
    const signature = signatureKey(draft.signature, draft.repeat);
    if (draft.repeat) {
      if (!repeats.some((r) => r.signature === signature)) repeats.push({ draft, level: outcome.analysis.complexity, signature, family: draft.family, tableCount: draft.tables.length });
      continue;
    }
    const existing = bySignature.get(signature);
    if (existing && existing.draft.priority >= draft.priority) continue;
    bySignature.set(signature, { draft, level: outcome.analysis.complexity, signature, family: draft.family, tableCount: draft.tables.length });
  }
  const pool = [...bySignature.values()];
  const multiTable = theme.tables.length >= 2;
  // Levels the theme's anchor cannot offer get no quota (a fact theme is about the fact, not about
  // filling a single-table slot with its neighbours); a one-table theme gets no join quota.
  const anchorLevels = new Set(pool.filter((c) => c.draft.tables[0] === theme.anchor).map((c) => c.level));
  const missing = COMPLEXITY_LEVELS.filter((l) => !anchorLevels.has(l) || (l === 'join' && !multiTable));
  const quotas = levelQuotas(count, missing.length < COMPLEXITY_LEVELS.length ? missing : multiTable ? [] : ['join']);
  const taken: Record<Complexity, number> = { single_table: 0, join: 0, aggregate: 0, window_cte: 0 };
  const familyUse = new Map<string, number>();
  const pairs: GeneratedPair[] = [];
  const emptyPool: Candidate[] = [];

  const score = (c: Candidate): number => {
    const fresh = c.draft.tables.filter((t) => !collector.tableUse.get(t) && (t === theme.anchor || !args.anchors?.has(t))).length;
    const freshColumns = c.draft.columns.filter((k) => !collector.columnUse.has(k)).length;
    const joinsWanted = c.tableCount >= 2 && collector.multiTable < 0.4 * (collector.accepted + 1) ? 6 : 0;
    const tie = (hashString(`${args.seed}:${c.signature}`) % 1000) / 1000;
    return c.draft.priority + (fresh > 0 ? 4 + fresh : 0) + Math.min(5, freshColumns) + joinsWanted - (familyUse.get(c.family) ?? 0) * 5 + tie;
  };

  const tryAccept = async (c: Candidate, checked: GeneratedPair['check']): Promise<boolean> => {
    const wordings = c.draft.questions[lang];
    const first = hashString(`${args.seed}:${c.draft.template}:${c.signature}`) % wordings.length;
    for (let k = 0; k < wordings.length; k++) {
      const question = wordings[(first + k) % wordings.length]!;
      const lintError = args.lint ? await args.lint({ question, sql: c.draft.sql }) : null;
      if (lintError) {
        drop(`lint:${lintError}`);
        return false;
      }
      const style = styleOf(question);
      const sameShape = Boolean(c.draft.repeat);
      const examined = await collector.examine({ question, sql: c.draft.sql, theme: theme.name, style, source: 'offline', template: c.draft.template }, { sameShape });
      const rejected = examined.ok ? collector.accept({ ...examined.pair, check: checked }, { signature: c.signature, columns: c.draft.columns, sameShape }) : examined;
      if (rejected) {
        if (rejected.reason === 'duplicate_question') continue;
        drop(rejected.reason);
        return false;
      }
      if (!examined.ok) return false;
      examined.pair.check = checked;
      examined.pair.signature = c.signature;
      pairs.push(examined.pair);
      taken[c.level] += 1;
      familyUse.set(c.family, (familyUse.get(c.family) ?? 0) + 1);
      return true;
    }
    drop('duplicate_question');
    return false;
  };

  /** Takes the best remaining candidate of a level (any level when undefined) that runs and returns rows. */
  const pickOne = async (level: Complexity | undefined): Promise<boolean> => {
    for (;;) {
      if (args.signal?.aborted) return false;
      let best: Candidate | undefined;
      let bestScore = -Infinity;
      for (const c of pool) {
        if (level && c.level !== level) continue;
        const s = score(c);
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      if (!best) return false;
      pool.splice(pool.indexOf(best), 1);
      if (collector.signatures.has(best.signature)) continue;
      let checked: GeneratedPair['check'] = 'unchecked';
      if (check) {
        const result = await check(best.draft.sql);
        if (result.status === 'error') {
          drop('execution_error');
          continue;
        }
        if (result.status === 'empty') {
          emptyPool.push(best);
          continue;
        }
        checked = result.status === 'rows' ? 'rows' : 'unchecked';
      }
      if (await tryAccept(best, checked)) return true;
    }
  };

  // Fill quotas round-robin so a short pool still spreads over the levels.
  const order: Complexity[] = ['aggregate', 'join', 'window_cte', 'single_table'];
  let progress = true;
  while (pairs.length < count && progress) {
    progress = false;
    for (const level of order) {
      if (pairs.length >= count) break;
      if (taken[level] >= quotas[level]) continue;
      if (await pickOne(level)) progress = true;
      else quotas[level] = taken[level]; // exhausted: give its slots to the others
    }
  }
  while (pairs.length < count && (await pickOne(undefined)));
  // Still short: the step tops up from the other themes first; statements that run but return no row
  // for the sampled values are the last resort (topUp with allowEmpty).
  const outcome: OfflineThemeOutcome = {
    theme,
    status: pairs.length > 0 || emptyPool.length > 0 ? 'ok' : 'failed',
    ...(pairs.length || emptyPool.length ? {} : { error: 'no candidate question could be built for this theme' }),
    pairs,
    dropped,
    /** More pairs from what is left of this theme's candidates (when other themes came back short). */
    async topUp(n: number, allowEmpty = false, allowRepeats = false): Promise<number> {
      const before = pairs.length;
      const target = before + n;
      if (allowRepeats) pool.push(...repeats.splice(0));
      while (pairs.length < target && (await pickOne(undefined)));
      while (allowEmpty && pairs.length < target && emptyPool.length) {
        const c = emptyPool.shift()!;
        if (!collector.signatures.has(c.signature)) await tryAccept(c, 'empty');
      }
      if (pairs.length > before) {
        outcome.status = 'ok';
        delete outcome.error;
      }
      return pairs.length - before;
    },
  };
  return outcome;
}

export interface OfflineThemeOutcome extends ThemeOutcome {
  /** More pairs from what is left; `allowRepeats`: other values of questions already asked (a size the
   * user asked for); `allowEmpty`: statements that returned no row. */
  topUp(n: number, allowEmpty?: boolean, allowRepeats?: boolean): Promise<number>;
}
