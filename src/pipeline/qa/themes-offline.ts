// Offline themes: table clusters along the relationships (declared and inferred). Every fact table (one
// with measures) anchors a theme with the tables it references; link tables anchor a relationship theme;
// reference tables with children or enums anchor an overview. Themes are chosen greedily to cover every
// table; a table left over is added to the theme it is connected to. Deterministic.
import type { Lang } from '../../config.ts';
import type { CatalogModel, TableModel } from './catalog.ts';
import type { Theme } from './types.ts';

interface Candidate {
  anchor: TableModel;
  tables: TableModel[];
  focus: NonNullable<Theme['focus']>;
  score: number;
}

/** Tables reachable through references (child → parent), breadth first, up to `depth` hops. */
export function ancestors(table: TableModel, depth: number): TableModel[] {
  const out: TableModel[] = [];
  const seen = new Set([table.key]);
  let frontier = [table];
  for (let d = 0; d < depth; d++) {
    const next: TableModel[] = [];
    for (const t of frontier) {
      for (const rel of t.parents) {
        if (seen.has(rel.to.key)) continue;
        seen.add(rel.to.key);
        out.push(rel.to);
        next.push(rel.to);
      }
    }
    frontier = next;
  }
  return out;
}

function factScore(t: TableModel): number {
  return 10 + t.measures.length + (t.times.length > 0 ? 5 : 0) + Math.log10(1 + t.rows);
}

function candidates(catalog: CatalogModel): Candidate[] {
  const out: Candidate[] = [];
  for (const t of catalog.tables) {
    if (t.isFact) {
      out.push({ anchor: t, tables: [t, ...ancestors(t, 2)].slice(0, 4), focus: 'fact', score: factScore(t) });
    } else if (t.isLink) {
      out.push({ anchor: t, tables: [t, ...t.parents.map((r) => r.to)].filter(unique).slice(0, 4), focus: 'link', score: 6 });
    } else {
      const children = t.children.map((r) => r.from).filter((c) => !c.isFact && !c.isLink);
      const parents = ancestors(t, 1);
      const interest = t.enums.length + t.names.length + children.length * 2 + parents.length;
      if (interest === 0 && t.children.length === 0) continue;
      out.push({ anchor: t, tables: [t, ...parents, ...children].filter(unique).slice(0, 4), focus: 'dimension', score: 3 + Math.min(5, interest) + t.children.length });
    }
  }
  // Isolated tables with nothing to anchor still get a candidate so coverage is possible.
  for (const t of catalog.tables) {
    if (!out.some((c) => c.anchor === t)) out.push({ anchor: t, tables: [t], focus: 'dimension', score: 1 });
  }
  return out.sort((a, b) => b.score - a.score || a.anchor.key.localeCompare(b.anchor.key));
}

function unique<T>(value: T, index: number, array: T[]): boolean {
  return array.indexOf(value) === index;
}

export function offlineThemes(catalog: CatalogModel, count: number, lang: Lang): Theme[] {
  const pool = candidates(catalog);
  const chosen: Candidate[] = [];
  const covered = new Set<string>();
  const signature = (c: Candidate) => `${c.focus}:${c.tables.map((t) => t.key).sort().join(',')}`;
  const used = new Set<string>();
  while (chosen.length < count) {
    let best: Candidate | undefined;
    let bestValue = -Infinity;
    for (const c of pool) {
      if (used.has(signature(c)) || chosen.some((x) => x.anchor === c.anchor)) continue;
      const fresh = c.tables.filter((t) => !covered.has(t.key)).length;
      // Facts anchor themes first (what analysts ask most about), then coverage decides.
      const value = fresh * 10 + c.score + (covered.has(c.anchor.key) ? 0 : 4) + (c.focus === 'fact' ? 40 : 0);
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    if (!best) break;
    chosen.push(best);
    used.add(signature(best));
    for (const t of best.tables) covered.add(t.key);
  }
  // More themes asked for than there are clusters: other perspectives on the facts.
  const facts = pool.filter((c) => c.focus === 'fact');
  for (const focus of ['trend', 'structure'] as const) {
    for (const f of facts) {
      if (chosen.length >= count) break;
      chosen.push({ ...f, focus });
    }
  }
  // Fewer themes than clusters: attach each uncovered table to a chosen theme it is connected to.
  for (const t of catalog.tables) {
    if (covered.has(t.key) || chosen.length === 0) continue;
    const neighbours = new Set([...t.parents.map((r) => r.to.key), ...t.children.map((r) => r.from.key)]);
    const host = chosen.find((c) => c.tables.some((x) => neighbours.has(x.key))) ?? chosen.reduce((a, b) => (a.tables.length <= b.tables.length ? a : b));
    host.tables = [...host.tables, t];
    covered.add(t.key);
  }
  const themes = chosen.map((c) => describeTheme(c, lang));
  // Names are unique (the metadata table and the logs tell themes apart by name).
  const seen = new Map<string, number>();
  for (const t of themes) {
    const n = (seen.get(t.name) ?? 0) + 1;
    seen.set(t.name, n);
    if (n > 1) t.name = `${t.name} (${n})`;
  }
  return themes;
}

function describeTheme(c: Candidate, lang: Lang): Theme {
  const a = c.anchor;
  const others = c.tables.filter((t) => t !== a);
  // A table whose rows are the same kind of thing as the anchor's is named by its label.
  const noun = (t: TableModel) => (t !== a && t.noun.zh === a.noun.zh ? t.label : t.noun);
  const metrics = a.measures.slice(0, 4).map((m) => m.label[lang]);
  const dims = [...a.enums.map((e) => e.label[lang]), ...others.map((t) => noun(t)[lang])].filter(unique).slice(0, 4);
  const entities = [a.noun[lang], ...others.map((t) => noun(t)[lang])].filter(unique);
  const zh = lang === 'zh';
  let name: string;
  let description: string;
  switch (c.focus) {
    case 'fact':
      name = zh ? `${a.label.zh}分析` : `${cap(a.label.en)} analysis`;
      description = zh
        ? `围绕${a.label.zh}，按${dims.join('、') || '时间'}等维度分析${metrics.join('、') || '记录数'}的规模、排名与变化。`
        : `Analyse ${metrics.join(', ') || 'record counts'} of ${a.label.en} by ${dims.join(', ') || 'time'}: totals, rankings and changes.`;
      break;
    case 'trend':
      name = zh ? `${a.label.zh}趋势分析` : `${cap(a.label.en)} trends`;
      description = zh ? `${a.label.zh}中${metrics.slice(0, 2).join('、')}随时间的变化：按日、按月、环比与累计。` : `How ${metrics.slice(0, 2).join(' and ')} of ${a.label.en} change over time: daily, monthly, month over month, running totals.`;
      break;
    case 'structure':
      name = zh ? `${a.label.zh}构成分析` : `${cap(a.label.en)} composition`;
      description = zh ? `${a.label.zh}按${dims.join('、')}的构成、占比与对比。` : `Composition, shares and comparisons of ${a.label.en} by ${dims.join(', ')}.`;
      break;
    case 'link':
      name = zh ? `${others.map((t) => t.noun.zh).join('与')}关联分析` : `${others.map((t) => cap(t.noun.en)).join(' and ')} relationships`;
      description = zh ? `通过${a.label.zh}分析${others.map((t) => t.noun.zh).join('与')}之间的对应关系与分布。` : `How ${others.map((t) => t.noun.en).join(' and ')} relate through ${a.label.en}.`;
      break;
    default:
      name = zh ? `${a.label.zh}信息概况` : `${cap(a.label.en)} overview`;
      description = zh
        ? `${a.label.zh}的基础信息查询与统计${others.length ? `，结合${others.map((t) => noun(t).zh).join('、')}` : ''}：分布、归属与数量。`
        : `Reference data of ${a.label.en}${others.length ? ` with ${others.map((t) => noun(t).en).join(', ')}` : ''}: distributions, ownership and counts.`;
  }
  const keywords = [a.noun[lang], ...metrics.slice(0, 2), ...a.enums.slice(0, 2).map((e) => e.label[lang]), ...others.map((t) => noun(t)[lang])].filter(unique).slice(0, 6);
  return {
    name,
    description,
    tables: c.tables.map((t) => t.key),
    entities,
    metrics,
    keywords,
    source: 'offline',
    repaired: [],
    dropped: [],
    anchor: a.key,
    focus: c.focus,
  };
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
