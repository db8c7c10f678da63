// Relationships that are not declared, inferred from names and confirmed by a bounded value-overlap
// check (`company_id` → bss_company.id, `service_no` → bss_service_area.service_area_no), and the order
// in which the tables' .ddl files run (dependencies first; FK cycles broken by request order).
import type { CatalogColumn, CatalogRelation, RelationProfile } from '../../postgres/catalog/index.ts';
import type { ForeignKeyInfo } from '../artifacts.ts';
import { uniqueColumns } from './model.ts';

const KEY_SUFFIXES = ['id', 'no', 'code', 'num', 'number', 'key', 'sn', 'uuid', 'guid'];
const MIN_OVERLAP = 0.8;
const MAX_CANDIDATES = 3;

/** snake_case / camelCase words, lower case. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** A column name as stem + key suffix (`company_id` → company / id); undefined when not key-like. */
export function splitKeyName(name: string): { stem: string; suffix: string } | undefined {
  const words = nameWords(name);
  if (words.length < 2) return undefined;
  const suffix = words[words.length - 1]!;
  if (!KEY_SUFFIXES.includes(suffix)) return undefined;
  return { stem: words.slice(0, -1).join('_'), suffix };
}

/** Names a table goes by: `bss_service_area` → [bss_service_area, service_area]; plurals singularised. */
export function tableCores(name: string): string[] {
  const words = nameWords(name);
  const cores = new Set<string>();
  const add = (w: string[]) => {
    if (!w.length) return;
    const core = w.join('_');
    cores.add(core);
    const last = w[w.length - 1]!;
    if (/ies$/.test(last)) cores.add([...w.slice(0, -1), last.replace(/ies$/, 'y')].join('_'));
    else if (/(ses|xes|ches|shes)$/.test(last)) cores.add([...w.slice(0, -1), last.replace(/es$/, '')].join('_'));
    else if (/[^s]s$/.test(last)) cores.add([...w.slice(0, -1), last.slice(0, -1)].join('_'));
  };
  add(words);
  if (words.length >= 2) add(words.slice(1));
  return [...cores];
}

type TypeClass = 'string' | 'integer' | 'uuid' | 'other';

function typeClass(column: CatalogColumn): TypeClass {
  const t = column.baseUdtName;
  if (column.typcategory === 'A') return 'other';
  if (['varchar', 'bpchar', 'text', 'citext', 'name'].includes(t)) return 'string';
  if (['int2', 'int4', 'int8'].includes(t)) return 'integer';
  if (t === 'numeric' && column.baseTypmod > 4 && ((column.baseTypmod - 4) & 0x7ff) === 0) return 'integer';
  if (t === 'uuid') return 'uuid';
  return 'other';
}

export interface RelationCandidate {
  source: CatalogRelation;
  column: CatalogColumn;
  target: CatalogRelation;
  targetColumn: CatalogColumn;
  /** Higher is a better name match. */
  score: number;
}

interface CoreEntry {
  relation: CatalogRelation;
  core: string;
}

/** Name-based index of the run's tables: stem → tables whose name relates to it. */
export class RelationIndex {
  private readonly exact = new Map<string, CoreEntry[]>();
  private readonly bySuffix = new Map<string, CoreEntry[]>();
  private readonly byPrefix = new Map<string, CoreEntry[]>();

  constructor(readonly relations: CatalogRelation[]) {
    for (const relation of relations) {
      if (!['r', 'p', 'm', 'f'].includes(relation.relkind)) continue;
      for (const core of tableCores(relation.name)) {
        const entry = { relation, core };
        push(this.exact, core, entry);
        const words = core.split('_');
        for (let i = 1; i < words.length; i++) {
          push(this.bySuffix, words.slice(i).join('_'), entry);
          push(this.byPrefix, words.slice(0, i).join('_'), entry);
        }
      }
    }
  }

  /** Candidate targets of a key-like column, best name match first. */
  candidates(source: CatalogRelation, column: CatalogColumn): RelationCandidate[] {
    const key = splitKeyName(column.name);
    if (!key) return [];
    const sourceClass = typeClass(column);
    if (sourceClass === 'other') return [];
    const found = new Map<string, RelationCandidate>();
    const consider = (entries: CoreEntry[] | undefined, tableScore: number) => {
      for (const { relation, core } of entries ?? []) {
        if (relation.oid === source.oid) continue;
        const unique = uniqueColumns(relation);
        const canonical = new Set([`${core}_${key.suffix}`]);
        for (const target of relation.columns) {
          if (typeClass(target) !== sourceClass) continue;
          const targetName = nameWords(target.name).join('_');
          let columnScore = 0;
          if (canonical.has(targetName)) columnScore = 3;
          else if (unique.has(target.name) && [key.suffix, column.name.toLowerCase(), `${key.stem}_${key.suffix}`].includes(targetName)) columnScore = 2;
          if (!columnScore) continue;
          const score = tableScore * 10 + columnScore + (unique.has(target.name) ? 1 : 0);
          const id = `${relation.oid}:${target.name}`;
          if ((found.get(id)?.score ?? -1) < score) found.set(id, { source, column, target: relation, targetColumn: target, score });
        }
      }
    };
    consider(this.exact.get(key.stem), 3);
    consider(this.bySuffix.get(key.stem), 2);
    consider(this.byPrefix.get(key.stem), 1);
    return [...found.values()].sort((a, b) => b.score - a.score).slice(0, MAX_CANDIDATES);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Whether a probe of the target column is bounded without a row cap: an index leads with it, or the target is small. */
export function probeNeedsCap(target: CatalogRelation, column: string): boolean {
  const indexed = target.indexes.some((i) => i.columns[0] === column && !i.partial);
  return !indexed && !(target.reltuples >= 0 && target.reltuples <= 100_000);
}

export type OverlapProbe = (candidate: RelationCandidate, values: string[]) => Promise<number>;

/**
 * Inferred relationships of one table: every key-like column without a declared key, whose name points
 * at a key of another table of the run and whose sampled values (the profile's most frequent ones)
 * are found there (≥ 80 %).
 */
export async function inferRelationships(
  relation: CatalogRelation,
  profile: RelationProfile | undefined,
  index: RelationIndex,
  probe: OverlapProbe,
): Promise<ForeignKeyInfo[]> {
  if (!profile) return [];
  const declared = new Set(relation.constraints.filter((c) => c.type === 'f').flatMap((c) => c.columns));
  const pk = relation.constraints.find((c) => c.type === 'p')?.columns ?? [];
  const out: ForeignKeyInfo[] = [];
  for (const [i, column] of relation.columns.entries()) {
    if (declared.has(column.name)) continue;
    if (pk.length === 1 && pk[0] === column.name) continue;
    // Values cut to 200 characters by the profile cannot match: leave them out.
    const values = (profile.columns[i]?.top ?? []).map((t) => t.value).filter((v) => v.length < 200);
    if (!values.length) continue;
    for (const candidate of index.candidates(relation, column)) {
      // A probe that fails (a value the target type rejects, a timeout) confirms nothing.
      const matched = await probe(candidate, values).catch(() => 0);
      if (matched / values.length < MIN_OVERLAP) continue;
      const target = candidate.target;
      out.push({
        name: null,
        columns: [column.name],
        target_schema: target.schema,
        target_table: target.name,
        target_columns: [candidate.targetColumn.name],
        inferred: true,
        evidence: `name ${column.name} → ${target.name}.${candidate.targetColumn.name}; ${matched}/${values.length} sampled values match`,
        overlap: { matched, sampled: values.length },
      });
      break;
    }
  }
  return out;
}

/**
 * Execution order of the tables' .ddl files: a table after the tables it references (declared foreign
 * keys) and a view after the relations it reads; ties and cycles resolved by request order.
 */
export function dependencyOrder(relations: CatalogRelation[]): { order: CatalogRelation[]; dependsOn: Map<number, number[]> } {
  const inRun = new Set(relations.map((r) => r.oid));
  const dependsOn = new Map<number, number[]>();
  for (const r of relations) {
    const deps = new Set<number>();
    for (const c of r.constraints) if (c.type === 'f' && c.targetOid && c.targetOid !== r.oid && inRun.has(c.targetOid)) deps.add(c.targetOid);
    for (const d of r.viewDependencies) if (d.oid !== r.oid && inRun.has(d.oid)) deps.add(d.oid);
    dependsOn.set(r.oid, [...deps]);
  }
  // Strongly connected components (Tarjan): a foreign-key cycle is one component, placed as a whole
  // once everything it depends on is placed; inside it, request order.
  const index = new Map<number, number>(relations.map((r, i) => [r.oid, i]));
  const component = new Map<number, number>();
  const components: number[][] = [];
  const low = new Map<number, number>();
  const seen = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  let counter = 0;
  const strongConnect = (oid: number) => {
    seen.set(oid, counter);
    low.set(oid, counter);
    counter += 1;
    stack.push(oid);
    onStack.add(oid);
    for (const dep of dependsOn.get(oid) ?? []) {
      if (!seen.has(dep)) {
        strongConnect(dep);
        low.set(oid, Math.min(low.get(oid)!, low.get(dep)!));
      } else if (onStack.has(dep)) {
        low.set(oid, Math.min(low.get(oid)!, seen.get(dep)!));
      }
    }
    if (low.get(oid) === seen.get(oid)) {
      const members: number[] = [];
      let member: number;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.set(member, components.length);
        members.push(member);
      } while (member !== oid);
      components.push(members.sort((a, b) => index.get(a)! - index.get(b)!));
    }
  };
  for (const r of relations) if (!seen.has(r.oid)) strongConnect(r.oid);

  const byOid = new Map(relations.map((r) => [r.oid, r]));
  const placedComponents = new Set<number>();
  const order: CatalogRelation[] = [];
  const pending = components.map((members, id) => ({ id, members, first: index.get(members[0]!)! })).sort((a, b) => a.first - b.first);
  while (pending.length) {
    const ready = pending.findIndex((c) =>
      c.members.every((m) => (dependsOn.get(m) ?? []).every((d) => component.get(d) === c.id || placedComponents.has(component.get(d)!))),
    );
    const [next] = pending.splice(ready < 0 ? 0 : ready, 1);
    placedComponents.add(next!.id);
    for (const m of next!.members) order.push(byOid.get(m)!);
  }
  return { order, dependsOn };
}
