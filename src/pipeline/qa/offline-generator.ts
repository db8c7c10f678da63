// The offline generator for one theme: drafts candidates (pairs-offline.ts), then picks a spread — the
// four complexity levels by quota, tables not covered yet first, no template family twice in a row —
// checking each pick against the database (it must run and should return a row) before it is accepted.
import type { Lang } from '../../config.ts';
import type { CatalogModel } from './catalog.ts';
import type { PairCollector } from './collector.ts';
import type { ExecutionChecker } from './execution-check.ts';
import { hashString, OfflineDrafter, type Draft } from './pairs-offline.ts';
import { mulberry32 } from '../../random.ts';
import { renderQuestion } from './phrasing.ts';
import { classifySql, COMPLEXITY_LEVELS, type Complexity } from './sql-analysis.ts';
import { QUESTION_STYLES, type GeneratedPair, type Theme, type ThemeOutcome } from './types.ts';

/** Share of each complexity level in a theme's pairs. */
export const LEVEL_WEIGHTS: Record<Complexity, number> = { single_table: 0.2, join: 0.3, aggregate: 0.3, window_cte: 0.2 };

/** Whole-number quotas that add up to n (largest remainders), every level at least 1 when n ≥ 4. */
export function levelQuotas(n: number): Record<Complexity, number> {
  const raw = COMPLEXITY_LEVELS.map((l) => ({ l, v: n * LEVEL_WEIGHTS[l] }));
  const out = Object.fromEntries(raw.map(({ l, v }) => [l, Math.floor(v)])) as Record<Complexity, number>;
  let left = n - Object.values(out).reduce((a, b) => a + b, 0);
  for (const { l } of [...raw].sort((a, b) => (b.v % 1) - (a.v % 1))) {
    if (left <= 0) break;
    out[l] += 1;
    left -= 1;
  }
  return out;
}

interface Candidate {
  draft: Draft;
  level: Complexity;
  fingerprint: string;
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
  signal?: AbortSignal;
}): Promise<OfflineThemeOutcome> {
  const { catalog, theme, lang, count, collector, check } = args;
  const rand = mulberry32(args.seed ^ hashString(theme.name) ^ args.themeIndex);
  const drafts = new OfflineDrafter(catalog, theme, lang, rand).drafts();
  const dropped: Record<string, number> = {};
  const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);

  // Parse every draft once; keep the best draft per fingerprint.
  const byFingerprint = new Map<string, Candidate>();
  for (const draft of drafts) {
    const outcome = classifySql(draft.sql);
    if (!outcome.ok) {
      drop(outcome.reason);
      continue;
    }
    const a = outcome.analysis;
    if (collector.fingerprints.has(a.fingerprint)) continue; // used by an earlier theme
    const existing = byFingerprint.get(a.fingerprint);
    if (existing && existing.draft.priority >= draft.priority) continue;
    byFingerprint.set(a.fingerprint, {
      draft,
      level: a.complexity,
      fingerprint: a.fingerprint,
      family: draft.template.split('.').slice(0, 2).join('.'),
      tableCount: new Set(a.tables.map((t) => `${t.schema}.${t.name}`)).size,
    });
  }
  const pool = [...byFingerprint.values()];
  const quotas = levelQuotas(count);
  const taken: Record<Complexity, number> = { single_table: 0, join: 0, aggregate: 0, window_cte: 0 };
  const familyUse = new Map<string, number>();
  const pairs: GeneratedPair[] = [];
  const emptyPool: Candidate[] = [];
  const styleOffset = (args.seed + args.themeIndex) % QUESTION_STYLES.length;

  const score = (c: Candidate): number => {
    const fresh = c.draft.tables.filter((t) => !collector.tableUse.get(t)).length;
    // Keep joins at a healthy share of the run: favour them while the share is below 40%.
    const joinsWanted = c.tableCount >= 2 && collector.multiTable < 0.4 * (collector.accepted + 1) ? 4 : 0;
    return c.draft.priority + (fresh > 0 ? 6 + fresh : 0) + (c.tableCount >= 2 ? 1 : 0) + joinsWanted - (familyUse.get(c.family) ?? 0) * 7;
  };

  const tryAccept = async (c: Candidate, checked: GeneratedPair['check']): Promise<boolean> => {
    for (let k = 0; k < QUESTION_STYLES.length; k++) {
      const style = QUESTION_STYLES[(pairs.length + styleOffset + k) % QUESTION_STYLES.length]!;
      const question = renderQuestion(c.draft.phrase, style, lang, c.draft.purpose, pairs.length + args.themeIndex);
      const examined = await collector.examine({ question, sql: c.draft.sql, theme: theme.name, style, source: 'offline', template: c.draft.template });
      const rejected = examined.ok ? collector.accept({ ...examined.pair, check: checked }) : examined;
      if (rejected) {
        if (rejected.reason === 'duplicate_question') continue;
        drop(rejected.reason);
        return false;
      }
      if (!examined.ok) return false;
      examined.pair.check = checked;
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
      if (collector.fingerprints.has(best.fingerprint)) continue;
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
    async topUp(n: number, allowEmpty = false): Promise<number> {
      const before = pairs.length;
      const target = before + n;
      while (pairs.length < target && (await pickOne(undefined)));
      while (allowEmpty && pairs.length < target && emptyPool.length) {
        const c = emptyPool.shift()!;
        if (!collector.fingerprints.has(c.fingerprint)) await tryAccept(c, 'empty');
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
  topUp(n: number, allowEmpty?: boolean): Promise<number>;
}
