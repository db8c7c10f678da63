// Offline themes: table clusters along the relationships (declared, inferred, user). Each fact (a table
// with additive measures, a dated event table or a link table) anchors a cluster with the tables it
// references (two hops at most); business tables left over anchor a reference cluster with their
// neighbours. Themes are named by their entities and measures (客户支付, 服务区每日车辆统计, 产品库存数量),
// their metrics are measures only, and partitions never take part (their parent does). Deterministic.
import type { Lang } from '../../messages.ts';
import type { CatalogModel, TableModel } from './catalog.ts';
import type { Theme } from './types.ts';

/** How an offline theme is named and described in each language (the generator's own wording). */
const THEME_WORDS: Record<Lang, {
  links(entities: string[]): string;
  /** The anchor's first measure: 服务区 + 服务区营业额 → 服务区营业额; service area revenue. */
  measured(entity: string, measure: string): string;
  overview(entity: string): string;
  /** The entity under its owner (服务区营业数据), or the entity alone when both are long. */
  owned(owner: string, entity: string): string;
  trend(base: string): string;
  structure(base: string): string;
  title(name: string): string;
  description(entities: string[], metrics: string[]): string;
}> = {
  zh: {
    links: (entities) => `${entities.join('与')}关联`,
    measured: (entity, measure) => `${entity}${measure.startsWith(entity) ? measure.slice(entity.length) : measure}`,
    overview: (entity) => `${entity}概况`,
    // A long owner and entity (names made from comments) glued together read as one word: the entity alone.
    owned: (owner, entity) => (owner.length + entity.length <= 10 ? `${owner}${entity}` : entity),
    trend: (base) => `${base}趋势`,
    structure: (base) => `${base}构成`,
    title: (name) => name,
    description: (entities, metrics) => `围绕${entities.join('、')}${metrics.length ? `，分析${metrics.join('、')}` : '的分布、归属与数量'}。`,
  },
  en: {
    links: (entities) => `${entities.join(' and ')} links`,
    measured: (entity, measure) => `${entity} ${measure}`,
    overview: (entity) => `${entity} overview`,
    owned: (owner, entity) => (owner.length + entity.length <= 40 ? `${owner} ${entity}` : entity),
    trend: (base) => `${base} trends`,
    structure: (base) => `${base} composition`,
    title: (name) => name.charAt(0).toUpperCase() + name.slice(1),
    description: (entities, metrics) => `About ${entities.join(', ')}${metrics.length ? `: ${metrics.join(', ')}` : ': distributions, ownership and counts'}.`,
  },
};

interface Cluster {
  anchor: TableModel;
  tables: TableModel[];
  focus: NonNullable<Theme['focus']>;
  score: number;
}

/** Default size: about 2.5 pairs per business table, within these bounds (the whole run). */
export const DEFAULT_PAIRS_PER_TABLE = 2.5;
export const DEFAULT_MIN_PAIRS = 8;
export const DEFAULT_MAX_PAIRS = 60;
/** Tables a theme may hold when leftovers are attached to it. */
export const MAX_THEME_TABLES = 6;

/** Tables reachable through references (child → parent), breadth first, up to `depth` hops. */
export function ancestors(table: TableModel, depth: number): TableModel[] {
  const out: TableModel[] = [];
  const seen = new Set([table.key]);
  let frontier = [table];
  for (let d = 0; d < depth; d++) {
    const next: TableModel[] = [];
    for (const t of frontier) {
      for (const rel of t.parents) {
        if (seen.has(rel.to.key) || rel.to.partition) continue;
        seen.add(rel.to.key);
        out.push(rel.to);
        next.push(rel.to);
      }
    }
    frontier = next;
  }
  return out;
}

const unique = <T>(value: T, index: number, array: T[]) => array.indexOf(value) === index;

function isFactLike(t: TableModel): boolean {
  return t.additive.length > 0 || t.isLink || (t.times.length > 0 && t.parents.length > 0);
}

function clusters(catalog: CatalogModel): Cluster[] {
  const business = catalog.tables.filter((t) => t.business);
  const out: Cluster[] = [];
  for (const t of business) {
    if (!isFactLike(t)) continue;
    const tables = [t, ...ancestors(t, 2).filter((a) => a.business)].slice(0, 4);
    out.push({ anchor: t, tables, focus: t.isLink ? 'link' : 'fact', score: 20 + t.additive.length * 2 + t.parents.length + Math.log10(1 + t.rows) });
  }
  out.sort((a, b) => b.score - a.score || a.anchor.key.localeCompare(b.anchor.key));
  const covered = new Set(out.flatMap((c) => c.tables.map((t) => t.key)));
  const anchoredAlone = new Set(out.map((c) => c.anchor.key));
  for (const t of business) {
    // Reference tables get their own theme when they have something to ask about, even if a fact
    // cluster already joins them (products have prices and stock; customers have cities).
    if (anchoredAlone.has(t.key)) continue;
    const own = t.measures.length + t.enums.length + t.times.length;
    if (covered.has(t.key) && own === 0) continue;
    const neighbours = [...t.parents.map((r) => r.to), ...t.children.map((r) => r.from).filter((c) => !isFactLike(c))].filter((n) => n !== t && n.business);
    out.push({ anchor: t, tables: [t, ...neighbours].filter(unique).slice(0, 3), focus: 'dimension', score: 5 + own });
    covered.add(t.key);
  }
  return out;
}

export function offlineThemes(catalog: CatalogModel, count: number | undefined, lang: Lang): Theme[] {
  let chosen = clusters(catalog);
  if (chosen.length === 0) {
    const any = catalog.tables.filter((t) => !t.partition);
    if (any.length) chosen = [{ anchor: any[0]!, tables: any.slice(0, 4), focus: 'dimension', score: 0 }];
  }
  if (count !== undefined && chosen.length > count) {
    // Fewer themes asked for: the weakest clusters hand their tables to a connected (else the smallest) theme.
    const kept = chosen.slice(0, count);
    for (const c of chosen.slice(count)) {
      for (const t of c.tables) {
        if (kept.some((k) => k.tables.includes(t))) continue;
        const neighbours = new Set([...t.parents.map((r) => r.to.key), ...t.children.map((r) => r.from.key)]);
        // A theme stays small enough to be about something (and to draft quickly on 2,000 tables).
        const host = kept.find((k) => k.tables.length < MAX_THEME_TABLES && k.tables.some((x) => neighbours.has(x.key))) ?? kept.reduce((a, b) => (a.tables.length <= b.tables.length ? a : b));
        if (host.tables.length >= MAX_THEME_TABLES) continue;
        host.tables = [...host.tables, t];
      }
    }
    chosen = kept;
  }
  if (count !== undefined) {
    // More themes asked for than there are clusters: the facts again, seen over time and by composition.
    const base = [...chosen];
    for (let round = 0; chosen.length < count && base.length; round++) {
      for (const c of base) {
        if (chosen.length >= count) break;
        chosen.push({ ...c, focus: round % 2 === 0 ? 'trend' : 'structure' });
      }
    }
  }
  const themes = chosen.map((c) => describe(c, lang));
  const seen = new Map<string, number>();
  for (const t of themes) {
    const n = (seen.get(t.name) ?? 0) + 1;
    seen.set(t.name, n);
    if (n > 1) t.name = `${t.name} (${n})`;
  }
  return themes;
}

/** Pairs per theme when the user gave no size: ≈ 2.5 per business table, spread by theme size. */
export function defaultThemeSizes(catalog: CatalogModel, themes: Theme[]): number[] {
  const business = catalog.tables.filter((t) => t.business).length;
  const total = Math.max(DEFAULT_MIN_PAIRS, Math.min(DEFAULT_MAX_PAIRS, Math.round(business * DEFAULT_PAIRS_PER_TABLE)));
  const weights = themes.map((t) => t.tables.length + (t.focus === 'fact' ? 3 : 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(2, Math.floor((total * w) / sum)));
  let left = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % sizes.length, left--) sizes[i]! += 1;
  return sizes;
}

function describe(c: Cluster, lang: Lang): Theme {
  const a = c.anchor;
  const others = c.tables.filter((t) => t !== a);
  const n = (t: TableModel) => t.entity[lang] || t.noun[lang];
  const metrics = c.tables.flatMap((t) => t.measures.slice(0, 3).map((m) => m.label[lang])).filter(unique).slice(0, 6);
  const entities = c.tables.map(n).filter(unique);
  const words = THEME_WORDS[lang];
  const owners = a.parents.filter((r) => c.tables.includes(r.to) && r.to.display.length > 0);
  const owner = (owners.find((r) => r.fromColumns.length === 1 && r.fromColumns[0]!.toLowerCase().includes(r.to.name.toLowerCase().replace(/^[a-z]{1,4}_/, ''))) ?? owners[0])?.to;
  let name: string;
  if (c.focus === 'link') {
    name = words.links(others.map(n).slice(0, 2));
  } else if (c.focus === 'dimension') {
    const m = a.measures[0];
    name = m ? words.measured(n(a), m.label[lang]) : words.overview(n(a));
  } else {
    const base = owner && !n(a).startsWith(n(owner)) ? words.owned(n(owner), n(a)) : n(a);
    name = c.focus === 'trend' ? words.trend(base) : c.focus === 'structure' ? words.structure(base) : base;
  }
  name = words.title(name);
  const description = words.description(entities, metrics);
  return {
    name,
    description,
    tables: c.tables.map((t) => t.key),
    entities,
    metrics,
    keywords: [...entities, ...metrics].filter(unique).slice(0, 6),
    source: 'offline',
    repaired: [],
    dropped: [],
    anchor: a.key,
    focus: c.focus,
  };
}
