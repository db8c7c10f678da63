// The offline default embedder: deterministic feature hashing of jieba words and character n-grams into
// a fixed number of dimensions, signed, sublinear, L2-normalised. No model files, no network; the same
// text gives the same vector on every machine. Good enough to retrieve a training item by its own words
// (which is what a Vanna app does with its questions); a real embedding model does better on paraphrases.
import type { Embedder } from './types.ts';

export const HASHING_MODEL = 'hashing-zh-v1';

type Cutter = (text: string) => string[];
let cutter: Cutter | undefined;

/** jieba with its bundled dictionary, loaded once per process (~0.4 s). */
async function loadCutter(): Promise<Cutter> {
  if (!cutter) {
    const [{ Jieba }, { dict }] = await Promise.all([import('@node-rs/jieba'), import('@node-rs/jieba/dict.js')]);
    const jieba = Jieba.withDict(dict);
    cutter = (text) => jieba.cut(text, false);
  }
  return cutter;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const WORDISH = /[\p{L}\p{N}]/u;

/** Weighted features of a text: words (jieba, lower-cased), CJK characters, character 2- and 3-grams. */
export function features(text: string, cut: Cutter): Map<string, number> {
  const normalised = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const out = new Map<string, number>();
  const add = (key: string, weight: number) => out.set(key, (out.get(key) ?? 0) + weight);
  for (const word of cut(normalised)) {
    if (!WORDISH.test(word)) continue;
    add(`w:${word}`, 1);
    // Identifiers like bss_business_day_data: their parts count as words too.
    if (word.includes('_')) for (const part of word.split('_')) if (part) add(`w:${part}`, 0.5);
  }
  const chars = Array.from(normalised);
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i]!;
    if (CJK.test(c)) add(`c1:${c}`, 0.25);
    if (i + 1 < chars.length) add(`c2:${c}${chars[i + 1]}`, 0.5);
    if (i + 2 < chars.length) add(`c3:${c}${chars[i + 1]}${chars[i + 2]}`, 0.5);
  }
  return out;
}

/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for well-spread low bits. */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashVector(text: string, dim: number, cut: Cutter): number[] {
  const v = new Float64Array(dim);
  const feats = features(text, cut);
  if (feats.size === 0) feats.set('empty:', 1); // a fixed unit vector, never the zero vector (cosine of 0 is NaN)
  for (const [key, weight] of feats) {
    const h = hash32(key);
    const sign = h & 0x80000000 ? -1 : 1;
    // sublinear term frequency: repeated words do not drown the rest
    v[h % dim]! += sign * (weight <= 1 ? weight : 1 + Math.log(weight));
  }
  let norm = 0;
  for (let i = 0; i < dim; i += 1) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  const out = new Array<number>(dim);
  // Rounded to float4 precision: what pgvector stores, so a vector read back equals the one written.
  for (let i = 0; i < dim; i += 1) out[i] = norm > 0 ? Math.fround(v[i]! / norm) : i === 0 ? 1 : 0;
  return out;
}

export class HashingEmbedder implements Embedder {
  constructor(
    readonly dim: number,
    readonly model: string = HASHING_MODEL,
    private readonly cut: Cutter,
  ) {}

  static async create(dim: number, model: string = HASHING_MODEL): Promise<HashingEmbedder> {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`hashing embedder: dimension must be a positive integer, got ${dim}`);
    return new HashingEmbedder(dim, model, await loadCutter());
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (const text of texts) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      out.push(hashVector(text, this.dim, this.cut));
    }
    return out;
  }
}
