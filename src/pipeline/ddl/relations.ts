// Relationships that are not declared, inferred from names and confirmed by a bounded value-overlap
// check (`company_id` → bss_company.id, `service_no` → bss_service_area.service_area_no), and the order
// in which the tables' .ddl files run (dependencies first; FK cycles broken by request order).
import type { CatalogColumn, CatalogRelation, RelationProfile } from '../../postgres/catalog/index.ts';
import type { DiscoveryRule, ForeignKeyInfo, UserRelationship } from '../artifacts.ts';
import { nameWords } from '../../text/translate.ts';
import { uniqueColumns } from './model.ts';
import { singularNoun } from '../../text/singular.ts';

const KEY_SUFFIXES = ['id', 'no', 'code', 'num', 'number', 'key', 'sn', 'uuid', 'guid'];
const MAX_CANDIDATES = 3;

export { nameWords } from '../../text/translate.ts';

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
    return this.keySuffixCandidates(source, column);
  }

  private keySuffixCandidates(source: CatalogRelation, column: CatalogColumn): RelationCandidate[] {
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
          // The table named exactly: its single-column primary key, whatever it is called (employees.person_id).
          else if (tableScore === 3 && primaryKeyOf(relation) === target.name) columnScore = 1;
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

function primaryKeyOf(relation: CatalogRelation): string | undefined {
  const pk = relation.constraints.find((c) => c.type === 'p')?.columns ?? [];
  return pk.length === 1 ? pk[0] : undefined;
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

// ------------------------------------------------------------------------------------ join discovery

/** Share of the sampled distinct child values that must exist in the target. */
export const MIN_CONTAINMENT = 0.9;
/** A target column counts as unique in the data when at least this share of its sampled values is distinct. */
const DATA_UNIQUE_SHARE = 0.95;
const MAX_CANDIDATES_PER_COLUMN = 4;
/** Names so common that sharing one says nothing about a relationship. */
const GENERIC_NAMES = new Set(['id', 'name', 'title', 'code', 'no', 'key', 'uuid', 'guid', 'type', 'status', 'description', 'version', 'remark', 'label', 'value', 'sort', 'seq']);
/** Role words of references to people (`manager_id`, `support_rep_id` → employee). */
const PERSON_ROLES = new Set(['manager', 'rep', 'representative', 'supervisor', 'boss', 'lead', 'leader', 'mentor', 'owner', 'assignee', 'reporter', 'approver', 'reviewer', 'creator', 'agent', 'advisor', 'adviser', 'coach', 'referrer', 'recruiter', 'head', 'doctor', 'physician', 'nurse', 'teacher', 'instructor', 'tutor', 'salesperson', 'seller', 'buyer', 'handler', 'attending', 'primary', 'referring']);
const PERSON_TABLES = new Set(['employee', 'employees', 'staff', 'user', 'users', 'person', 'people', 'member', 'worker', 'emp', 'account', 'doctor', 'physician', 'teacher', 'instructor', 'agent']);
/** Tables that hold what several kinds of people have in common (a party or person supertype). */
const SUPERTYPE_TABLES = new Set(['person', 'persons', 'people', 'party', 'parties', 'individual', 'individuals']);
const PARTY_KINDS = new Set([...PERSON_TABLES, 'customer', 'customers', 'client', 'clients', 'patient', 'patients', 'supplier', 'suppliers', 'vendor', 'vendors', 'contact', 'contacts', 'student', 'students', 'teacher', 'teachers']);

/** A kind of person whose key is given, not generated: its rows take their ids from a supertype. */
function isSubtypeOfParty(relation: CatalogRelation, key: CatalogColumn): boolean {
  if (key.identity || /nextval\(/.test(key.default ?? '')) return false;
  return tableCores(relation.name).some((core) => PARTY_KINDS.has(core) && !SUPERTYPE_TABLES.has(core));
}

const SELF_ROLES = new Set(['parent', 'reports_to', 'reportsto', 'superior', 'predecessor', 'successor', 'previous', 'prev', 'next', 'original', 'replaced', 'merged']);

export type UniqueKind = 'key' | 'data';

/** Profiles and uniqueness of the run's tables: what join discovery reads. */
export interface DiscoveryTable {
  relation: CatalogRelation;
  profile: RelationProfile | undefined;
}

export interface DiscoveryCandidate {
  source: CatalogRelation;
  column: CatalogColumn;
  target: CatalogRelation;
  targetColumn: CatalogColumn;
  rule: DiscoveryRule;
  /** Higher is a better name match. */
  nameScore: number;
  targetUnique: UniqueKind;
  /** Set when a sibling target gave way to its parent: the column whose values were found. */
  via?: string;
}

export interface ProposedRelationship {
  /** `table.column` of the child (schema optional). */
  from: string;
  to: string;
}

export interface DiscoveryOptions {
  /** Relationships the LLM proposed (rule `llm`): confirmed like every other candidate. */
  proposed?: ProposedRelationship[];
  /** User-declared (added as they are) and vetoed relationships. */
  user?: UserRelationship[];
}

export interface DiscoveryResult {
  /** By child relation oid: the relationships found (inferred and user-declared), one target per column. */
  byRelation: Map<number, ForeignKeyInfo[]>;
  stats: { candidates: number; probes: number; confirmed: number; vetoed: number; user: number; ambiguous: number };
  /** User entries that name no column of the run (reported, never fatal). */
  unknownUser: string[];
}

/** Words of a column name without the words its table puts in front of every column (`crmOrdCustId` → cust id). */
const prefixCache = new WeakMap<CatalogRelation, string[]>();

export function columnPrefix(relation: CatalogRelation): string[] {
  const cached = prefixCache.get(relation);
  if (cached) return cached;
  const prefix = computeColumnPrefix(relation);
  prefixCache.set(relation, prefix);
  return prefix;
}

function computeColumnPrefix(relation: CatalogRelation): string[] {
  const lists = relation.columns.map((c) => nameWords(c.name));
  if (lists.length < 2) return [];
  let prefix: string[] = [];
  for (let n = 1; n <= 3; n++) {
    const counts = new Map<string, number>();
    for (const w of lists) if (w.length > n) counts.set(w.slice(0, n).join('_'), (counts.get(w.slice(0, n).join('_')) ?? 0) + 1);
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    if (!best || best[1] < Math.max(2, Math.ceil(lists.length * 0.6))) break;
    prefix = best[0].split('_');
  }
  return prefix;
}

/** The first name word most tables of the run share (`bss`, `crm`): not part of any entity's name. */
export function runTablePrefix(names: string[]): string[] {
  if (names.length < 2) return [];
  const counts = new Map<string, number>();
  for (const n of names) {
    const w = nameWords(n);
    if (w.length > 1) counts.set(w[0]!, (counts.get(w[0]!) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return best && best[1] >= Math.max(2, Math.ceil(names.length * 0.6)) ? [best[0]] : [];
}

function schemaPrefix(relations: CatalogRelation[]): string[] {
  const prefixes = relations.map(columnPrefix).filter((p) => p.length);
  if (prefixes.length < Math.max(2, relations.length * 0.6)) return [];
  const first = prefixes[0]![0]!;
  return prefixes.every((p) => p[0] === first) ? [first] : [];
}

function strip(words: string[], prefix: string[]): string[] {
  if (!prefix.length || words.length <= prefix.length) return words;
  return prefix.every((w, i) => words[i] === w) ? words.slice(prefix.length) : words;
}

/**
 * How a target column is unique: a key, or (nearly) all distinct in the data. A column unique only in the
 * data must also be the table's own key by name (`city.city_name`, `paper.paperid`), so that a child that
 * happens to be all distinct in a sample (`orders.customer_id`) is never taken for its siblings' parent.
 */
function uniqueKind(table: DiscoveryTable, column: CatalogColumn, keys: Set<string>): UniqueKind | undefined {
  if (keys.has(column.name)) return 'key';
  const i = table.relation.columns.indexOf(column);
  const p = table.profile?.columns[i];
  if (!p || p.nonNull < 2) return undefined;
  if (p.distinct / p.nonNull < DATA_UNIQUE_SHARE) return undefined;
  return ownsName(table.relation, column) ? 'data' : undefined;
}

const tableWordCache = new WeakMap<CatalogRelation, Set<string>>();
function tableWordSet(relation: CatalogRelation): Set<string> {
  let set = tableWordCache.get(relation);
  if (!set) tableWordCache.set(relation, (set = new Set(nameWords(relation.name).map(singularNoun))));
  return set;
}

function ownsName(relation: CatalogRelation, column: CatalogColumn): boolean {
  const words = nameWords(column.name);
  const bare = strip(words, columnPrefix(relation));
  if (bare.length === 1 && bare !== words) return true;
  if (words.length === 1 && relation.columns[0] === column) return true;
  const cores = tableCores(relation.name);
  const flatCores = cores.map((c) => c.replace(/_/g, ''));
  const joined = words.join('_');
  const key = splitKeyName(column.name);
  if (key && cores.includes(key.stem)) return true;
  if (cores.some((c) => joined === `${c}_name` || joined === `${c}_code`)) return true;
  return flatCores.some((c) => words.length === 1 && words[0]!.startsWith(c) && words[0]!.length - c.length <= 4);
}

interface TargetForm {
  table: DiscoveryTable;
  column: CatalogColumn;
  unique: UniqueKind;
  /** How a referencing column would be named, with the rule and strength of each form. */
  forms: Map<string, { rule: DiscoveryRule; score: number }>;
}

/**
 * Join discovery over the whole run: candidates from names (key suffixes, identical names with a unique
 * side, names equal once a table prefix is removed, flat `<table>id` / `<table>_name` compounds, role
 * names of people and self references, the LLM's proposals), each confirmed by type, a unique target and
 * containment (≥ 0.9 of the sampled distinct child values exist in the target); then one target per
 * child column (a key before a data-unique column, the better name, the higher containment), and never a
 * child linked to a sibling: a target column that itself references a parent is replaced by the parent.
 */
export async function discoverRelationships(allTables: DiscoveryTable[], probe: OverlapProbe, options: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const stats = { candidates: 0, probes: 0, confirmed: 0, vetoed: 0, user: 0, ambiguous: 0 };
  // Inheritance children are read through their parent: their keys are the parent's (containment would
  // trivially hold), so they are neither children nor targets of discovered joins.
  const tables = allTables.filter((t) => !t.relation.inheritsFrom);
  const relations = tables.map((t) => t.relation);
  const global = schemaPrefix(relations);
  const byOid = new Map(tables.map((t) => [t.relation.oid, t]));
  const keyIndex = new RelationIndex(relations);
  /** Tables a relation already points at: declared keys, and key-suffix names of its columns. */
  const referencedBy = (relation: CatalogRelation): Set<number> => {
    const out = new Set<number>();
    for (const c of relation.constraints) if (c.type === 'f' && c.targetOid) out.add(c.targetOid);
    for (const column of relation.columns) for (const candidate of keyIndex.candidates(relation, column)) out.add(candidate.target.oid);
    return out;
  };
  const declaredCols = new Map<number, Set<string>>();
  for (const r of relations) declaredCols.set(r.oid, new Set(r.constraints.filter((c) => c.type === 'f').flatMap((c) => c.columns)));

  const targets: TargetForm[] = [];
  for (const table of tables) {
    const relation = table.relation;
    if (!['r', 'p', 'm', 'f'].includes(relation.relkind)) continue;
    const keys = uniqueColumns(relation);
    const own = columnPrefix(relation);
    const cores = tableCores(relation.name).map((c) => c.replace(/_/g, ''));
    const coreWords = tableCores(relation.name).map((c) => c.split('_'));
    const abbreviation = strip(own, global);
    for (const column of relation.columns) {
      if (typeClass(column) === 'other') continue;
      const unique = uniqueKind(table, column, keys);
      if (!unique) continue;
      const forms = new Map<string, { rule: DiscoveryRule; score: number }>();
      const add = (words: string[], rule: DiscoveryRule, score: number) => {
        const form = words.join('_');
        if (!form || GENERIC_NAMES.has(form)) return;
        if ((forms.get(form)?.score ?? -1) < score) forms.set(form, { rule, score });
      };
      const words = nameWords(column.name);
      add(words, 'same_name', 3);
      add(strip(words, global), 'prefixed_name', 2);
      const bare = strip(words, own);
      if (abbreviation.length) add([...abbreviation, ...bare], 'prefixed_name', 2);
      if (bare.length === 1 || words.length === 1) {
        const key = bare.length === 1 ? bare : words;
        for (const core of cores) add([`${core}${key[0]}`], 'flat_compound', 2);
        for (const cw of coreWords) add([...cw, ...key], 'flat_compound', 2);
      }
      if (forms.size) targets.push({ table, column, unique, forms });
    }
  }
  const byForm = new Map<string, TargetForm[]>();
  const byFlatForm = new Map<string, TargetForm[]>();
  for (const t of targets) {
    for (const form of t.forms.keys()) {
      push(byForm, form, t);
      const flatForm = form.replace(/_/g, '');
      if (flatForm.length >= 4 && !byFlatForm.get(flatForm)?.includes(t)) push(byFlatForm, flatForm, t);
    }
  }
  const supertypeTargets = targets.filter((t) => tableCores(t.table.relation.name).some((core) => SUPERTYPE_TABLES.has(core)) && primaryKeyOf(t.table.relation) === t.column.name);
  const personTargets = targets.filter((t) => tableCores(t.table.relation.name).some((core) => PERSON_TABLES.has(core.split('_').at(-1)!)));

  // `table.column` / `schema.table.column` → the run's column, by map (proposals can be many).
  const byTableName = new Map<string, DiscoveryTable[]>();
  for (const t of tables) push(byTableName, t.relation.name, t);
  const resolveUser = (ref: string): { table: DiscoveryTable; column: CatalogColumn } | undefined => {
    const parts = ref.split('.');
    if (parts.length < 2) return undefined;
    const columnName = parts.at(-1)!;
    const tableName = parts.at(-2)!;
    const schema = parts.length > 2 ? parts.at(-3) : undefined;
    for (const t of byTableName.get(tableName) ?? []) {
      if (schema && t.relation.schema !== schema) continue;
      const column = t.relation.columns.find((c) => c.name === columnName);
      if (column) return { table: t, column };
    }
    return undefined;
  };
  const proposalsByColumn = new Map<string, Array<{ table: DiscoveryTable; column: CatalogColumn }>>();
  for (const proposal of options.proposed ?? []) {
    const from = resolveUser(proposal.from);
    const to = resolveUser(proposal.to);
    if (from && to) push(proposalsByColumn, `${from.table.relation.oid}:${from.column.name}`, to);
  }
  const unknownUser: string[] = [];
  const vetoed = new Set<string>();
  const userEdges = new Map<string, { from: { table: DiscoveryTable; column: CatalogColumn }; to: { table: DiscoveryTable; column: CatalogColumn } }>();
  for (const entry of options.user ?? []) {
    const from = resolveUser(entry.from);
    const to = resolveUser(entry.to);
    if (!from || !to) {
      unknownUser.push(`${entry.from} -> ${entry.to}`);
      continue;
    }
    const id = `${from.table.relation.oid}:${from.column.name}`;
    if (entry.enabled === false) vetoed.add(`${id}>${to.table.relation.oid}:${to.column.name}`);
    else if (declaredCols.get(from.table.relation.oid)?.has(from.column.name)) unknownUser.push(`${entry.from} -> ${entry.to} (the column has a declared foreign key, kept as it is)`);
    else userEdges.set(id, { from, to });
  }

  // Candidates per child column.
  const perColumn = new Map<string, { table: DiscoveryTable; column: CatalogColumn; candidates: DiscoveryCandidate[] }>();
  for (const table of tables) {
    const relation = table.relation;
    const own = columnPrefix(relation);
    const pk = relation.constraints.find((c) => c.type === 'p')?.columns ?? [];
    const selfCores = new Set(tableCores(relation.name));
    for (const column of relation.columns) {
      if (declaredCols.get(relation.oid)!.has(column.name)) continue;
      const cls = typeClass(column);
      if (cls === 'other') continue;
      const words = nameWords(column.name);
      const key = splitKeyName(column.name);
      // A table's own single-column key is a reference only when its name points elsewhere (1:1 tables),
      // or when the table is a kind of person and the run has a supertype table (employees.id → persons.id).
      const ownKey = pk.length === 1 && pk[0] === column.name;
      if (ownKey && GENERIC_NAMES.has(words.join('_')) && isSubtypeOfParty(relation, column)) {
        const found = new Map<string, DiscoveryCandidate>();
        for (const t of supertypeTargets) {
          if (t.table.relation.oid === relation.oid || typeClass(t.column) !== cls || t.unique !== 'key') continue;
          found.set(`${t.table.relation.oid}:${t.column.name}`, { source: relation, column, target: t.table.relation, targetColumn: t.column, rule: 'role_name', nameScore: 1, targetUnique: 'key' });
        }
        if (found.size) perColumn.set(`${relation.oid}:${column.name}`, { table, column, candidates: [...found.values()] });
        continue;
      }
      if (ownKey && ((key && selfCores.has(key.stem)) || GENERIC_NAMES.has(words.join('_')) || ownsName(relation, column))) continue;
      const found = new Map<string, DiscoveryCandidate>();
      const sourceWords = tableCores(relation.name)[0]!.split('_').map((w) => singularNoun(w)).filter((w) => w.length > 2 && !GENERIC_NAMES.has(w));
      const referencedTables = referencedBy(relation);
      const consider = (target: DiscoveryTable, targetColumn: CatalogColumn, rule: DiscoveryRule, nameScore: number, unique: UniqueKind) => {
        if (typeClass(targetColumn) !== cls) return;
        if (target.relation.oid === relation.oid && targetColumn.name === column.name) return;
        const id = `${target.relation.oid}:${targetColumn.name}`;
        // Of two keys with the same name, the table whose own key it is (state.state_name, not highlow.state_name);
        // a target whose name shares a word with the child's table (tickets.type_id → ticket_types); the
        // table the child already references elsewhere (a person role → the person table it points at).
        const score =
          nameScore +
          (ownsName(target.relation, targetColumn) ? 0.5 : 0) +
          (target.relation.oid !== relation.oid && sourceWords.some((w) => tableWordSet(target.relation).has(w)) ? 0.2 : 0) +
          (referencedTables.has(target.relation.oid) ? 0.1 : 0);
        if ((found.get(id)?.nameScore ?? -1) >= score) return;
        found.set(id, { source: relation, column, target: target.relation, targetColumn, rule, nameScore: score, targetUnique: unique });
      };
      // Key suffix: `company_id` → company.id / company.company_id.
      for (const c of keyIndex.candidates(relation, column)) {
        const t = byOid.get(c.target.oid)!;
        const unique = uniqueKind(t, c.targetColumn, uniqueColumns(c.target));
        if (unique) consider(t, c.targetColumn, 'key_suffix', 3 + c.score / 100, unique);
      }
      // Identical, prefixed and flat names.
      const childForms: Array<{ words: string[]; score: number }> = [
        { words, score: 3 },
        { words: strip(words, own), score: 2 },
        { words: strip(words, global), score: 2 },
      ];
      for (const { words: w, score } of childForms) {
        const form = w.join('_');
        if (GENERIC_NAMES.has(form)) continue;
        for (const t of byForm.get(form) ?? []) {
          if (t.table.relation.oid === relation.oid) continue;
          const f = t.forms.get(form)!;
          consider(t.table, t.column, score === 3 && f.rule === 'same_name' ? 'same_name' : f.rule === 'same_name' ? 'prefixed_name' : f.rule, Math.min(score, f.score), t.unique);
        }
      }
      // Role names: `citingpaperid` / `billing_address_id` end with a target's name (looked up by suffix);
      // people and self references.
      const flat = words.join('');
      for (let start = 2; start <= flat.length - 4; start++) {
        for (const t of byFlatForm.get(flat.slice(start)) ?? []) {
          if (t.table.relation.oid === relation.oid && !SELF_ROLES.has(words[0]!)) continue;
          consider(t.table, t.column, 'role_name', 1, t.unique);
        }
      }
      if (key && (words.some((w) => PERSON_ROLES.has(w)) || SELF_ROLES.has(words[0]!) || SELF_ROLES.has(words.slice(0, 2).join('_')))) {
        const self = SELF_ROLES.has(words[0]!) || SELF_ROLES.has(words.slice(0, 2).join('_'));
        for (const t of self ? targets.filter((x) => x.table.relation.oid === relation.oid) : personTargets) {
          const isSelf = t.table.relation.oid === relation.oid;
          const person = personTargets.includes(t);
          if (!(self ? isSelf : person)) continue;
          const sourceIsPerson = personTargets.some((x) => x.table.relation.oid === relation.oid);
          if (t.unique !== 'key' && !t.column.name.toLowerCase().endsWith(key.suffix)) continue;
          consider(t.table, t.column, 'role_name', isSelf && sourceIsPerson ? 1.3 : 1, t.unique);
        }
      } else if (!key && SELF_ROLES.has(words.join('_'))) {
        for (const t of targets) if (t.table.relation.oid === relation.oid && t.unique === 'key') consider(t.table, t.column, 'role_name', 1, t.unique);
      }
      for (const to of proposalsByColumn.get(`${relation.oid}:${column.name}`) ?? []) {
        const unique = uniqueKind(to.table, to.column, uniqueColumns(to.table.relation));
        if (unique) consider(to.table, to.column, 'llm', 1.5, unique);
      }
      const candidates = [...found.values()]
        .filter((c) => !vetoed.has(`${relation.oid}:${column.name}>${c.target.oid}:${c.targetColumn.name}`))
        .sort((a, b) => (a.targetUnique === b.targetUnique ? 0 : a.targetUnique === 'key' ? -1 : 1) || b.nameScore - a.nameScore || a.target.name.localeCompare(b.target.name))
        .slice(0, MAX_CANDIDATES_PER_COLUMN);
      stats.vetoed += found.size - [...found.values()].filter((c) => !vetoed.has(`${relation.oid}:${column.name}>${c.target.oid}:${c.targetColumn.name}`)).length;
      if (candidates.length) perColumn.set(`${relation.oid}:${column.name}`, { table, column, candidates });
    }
  }

  // Confirmation: containment of the sampled distinct child values.
  const rank = (c: DiscoveryCandidate) => (c.targetUnique === 'key' ? 0 : 100) - c.nameScore;
  interface Confirmed {
    candidate: DiscoveryCandidate;
    matched: number;
    sampled: number;
  }
  const chosen = new Map<string, Confirmed>();
  await Promise.all(
    [...perColumn].map(async ([id, { table, column, candidates }]) => {
      if (userEdges.has(id)) return;
      const i = table.relation.columns.indexOf(column);
      // Values cut to 200 characters by the profile cannot match: leave them out.
      const values = (table.profile?.columns[i]?.top ?? []).map((t) => t.value).filter((v) => v.length < 200);
      if (!values.length) return;
      const confirmed: Confirmed[] = [];
      for (const candidate of candidates) {
        stats.candidates += 1;
        stats.probes += 1;
        // A probe that fails (a value the target type rejects, a timeout) confirms nothing.
        const matched = await probe(candidate, values).catch(() => 0);
        if (matched / values.length >= MIN_CONTAINMENT) confirmed.push({ candidate, matched, sampled: values.length });
        // The best-ranked candidate that holds wins; the rest need not be probed unless one ranks the same.
        const next = candidates[candidates.indexOf(candidate) + 1];
        if (confirmed.length && (!next || rank(next) > rank(confirmed[0]!.candidate))) break;
      }
      confirmed.sort((a, b) => rank(a.candidate) - rank(b.candidate) || b.matched / b.sampled - a.matched / a.sampled);
      const [best, second] = confirmed;
      // Two targets that nothing tells apart (same uniqueness, name match and containment): no guess.
      if (best && second && rank(best.candidate) === rank(second.candidate) && best.matched / best.sampled === second.matched / second.sampled) {
        stats.ambiguous += 1;
        return;
      }
      if (best) chosen.set(id, best);
    }),
  );

  // No sibling-to-sibling edge: a target column that itself references a parent gives way to the parent.
  const referenceOf = (oid: number, columnName: string): { oid: number; column: string } | undefined => {
    const relation = byOid.get(oid)?.relation;
    const declared = relation?.constraints.find((c) => c.type === 'f' && c.columns.length === 1 && c.columns[0] === columnName && c.targetOid);
    if (declared) return { oid: declared.targetOid!, column: declared.targetColumns[0]! };
    const user = userEdges.get(`${oid}:${columnName}`);
    if (user) return { oid: user.to.table.relation.oid, column: user.to.column.name };
    const inferred = chosen.get(`${oid}:${columnName}`);
    return inferred ? { oid: inferred.candidate.target.oid, column: inferred.candidate.targetColumn.name } : undefined;
  };
  for (let round = 0; round < 3; round++) {
    for (const [id, confirmed] of chosen) {
      const c = confirmed.candidate;
      const parent = referenceOf(c.target.oid, c.targetColumn.name);
      if (!parent) continue;
      if (parent.oid === c.source.oid && parent.column === c.column.name) {
        // A pair pointing at each other (1:1 extension table): keep the edge from the non-key side only.
        if (uniqueColumns(c.source).has(c.column.name) && !uniqueColumns(c.target).has(c.targetColumn.name)) chosen.delete(id);
        continue;
      }
      // A target that is its table's own key (a subtype or 1:1 table: employees.id → persons.id) is the
      // join that was meant. Only a column that is merely unique in the sample and itself references a
      // parent (a sibling child) gives way to the parent, which then holds the values too.
      if (c.targetUnique === 'key') continue;
      const parentTable = byOid.get(parent.oid);
      const parentColumn = parentTable?.relation.columns.find((col) => col.name === parent.column);
      if (!parentTable || !parentColumn) continue;
      const unique = uniqueKind(parentTable, parentColumn, uniqueColumns(parentTable.relation)) ?? 'data';
      chosen.set(id, {
        candidate: { ...c, target: parentTable.relation, targetColumn: parentColumn, targetUnique: unique, via: `${c.target.name}.${c.targetColumn.name}` },
        matched: confirmed.matched,
        sampled: confirmed.sampled,
      });
    }
  }

  const byRelation = new Map<number, ForeignKeyInfo[]>();
  const add = (oid: number, fk: ForeignKeyInfo) => push(byRelation, oid, fk);
  for (const [, edge] of userEdges) {
    stats.user += 1;
    add(edge.from.table.relation.oid, {
      name: null,
      columns: [edge.from.column.name],
      target_schema: edge.to.table.relation.schema,
      target_table: edge.to.table.relation.name,
      target_columns: [edge.to.column.name],
      inferred: false,
      origin: 'user',
      evidence: 'declared by the user (relationships)',
    });
  }
  for (const [id, { candidate: c, matched, sampled }] of chosen) {
    if (c.target.oid === c.source.oid && c.targetColumn.name === c.column.name) continue;
    // A veto names the edge as the map shows it, after any sibling → parent step.
    if (vetoed.has(`${id}>${c.target.oid}:${c.targetColumn.name}`)) {
      stats.vetoed += 1;
      continue;
    }
    stats.confirmed += 1;
    const containment = Math.round((matched / sampled) * 1000) / 1000;
    add(c.source.oid, {
      name: null,
      columns: [c.column.name],
      target_schema: c.target.schema,
      target_table: c.target.name,
      target_columns: [c.targetColumn.name],
      inferred: true,
      origin: 'inferred',
      evidence:
        `${c.rule}: ${c.column.name} → ${c.target.name}.${c.targetColumn.name}; ${matched}/${sampled} sampled values found` +
        (c.via ? ` in ${c.via}, which references ${c.target.name}.${c.targetColumn.name}` : '') +
        `; target ${c.targetUnique === 'key' ? 'is a key' : 'unique in the data'}`,
      overlap: { matched, sampled },
      discovery: { rule: c.rule, containment, target_unique: c.targetUnique, sampled },
    });
  }
  for (const list of byRelation.values()) list.sort((a, b) => a.columns[0]!.localeCompare(b.columns[0]!));
  return { byRelation, stats, unknownUser };
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

export type OverlapProbe = (candidate: { target: CatalogRelation; targetColumn: CatalogColumn }, values: string[]) => Promise<number>;
