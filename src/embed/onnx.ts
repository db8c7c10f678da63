// A local ONNX embedding model (a folder as transformers.js expects it: config.json, tokenizer files,
// onnx/model.onnx) run in-process by @huggingface/transformers, with remote loading disabled: nothing is
// ever downloaded. The package is an optional dependency, loaded only when this embedder is chosen.
import fs from 'node:fs';
import path from 'node:path';
import type { Embedder } from './types.ts';

export const ONNX_PACKAGE = '@huggingface/transformers';

export class OnnxUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OnnxUnavailableError';
  }
}

interface FeatureExtractor {
  (texts: string[], options: { pooling: 'mean'; normalize: boolean }): Promise<{ tolist(): number[][] }>;
}

/** The optional package, or a clear error saying how to install it. `importer` is for tests. */
export async function loadTransformers(importer: (name: string) => Promise<unknown> = (name) => import(name)): Promise<any> {
  try {
    return await importer(ONNX_PACKAGE);
  } catch (error) {
    throw new OnnxUnavailableError(
      `DATA_PIPELINE_EMBEDDER=onnx needs the optional dependency ${ONNX_PACKAGE}, which is not installed. ` +
        `Install it with: echo "onnxruntime-node-install=skip" >> .npmrc && npm install ${ONNX_PACKAGE}@4 ` +
        `(or use DATA_PIPELINE_EMBEDDER=hashing or openai).`,
      { cause: error },
    );
  }
}

export class OnnxEmbedder implements Embedder {
  private constructor(
    readonly model: string,
    readonly dim: number,
    private readonly extractor: FeatureExtractor,
    private readonly batchSize: number,
  ) {}

  /** `modelDir`: a local model folder (absolute, or relative to `cwd`). */
  static async create(options: { modelDir: string; dim: number; batchSize: number; cwd?: string; importer?: (name: string) => Promise<unknown> }): Promise<OnnxEmbedder> {
    const dir = path.resolve(options.cwd ?? process.cwd(), options.modelDir);
    if (!fs.existsSync(path.join(dir, 'config.json'))) {
      throw new OnnxUnavailableError(
        `DATA_PIPELINE_EMBEDDING_MODEL must name a local model folder (with config.json, tokenizer.json and onnx/model.onnx); ${dir} is not one`,
      );
    }
    const transformers = await loadTransformers(options.importer);
    const env = transformers.env;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(dir) + path.sep;
    const extractor = (await transformers.pipeline('feature-extraction', path.basename(dir), { local_files_only: true })) as FeatureExtractor;
    const probe = (await extractor(['dimension probe'], { pooling: 'mean', normalize: true })).tolist()[0] ?? [];
    if (probe.length !== options.dim) {
      throw new OnnxUnavailableError(
        `the model in ${dir} gives vectors of dimension ${probe.length}, but DATA_PIPELINE_EMBEDDING_DIM is ${options.dim}; set DATA_PIPELINE_EMBEDDING_DIM=${probe.length}`,
      );
    }
    return new OnnxEmbedder(`onnx:${path.basename(dir)}`, options.dim, extractor, Math.max(1, options.batchSize));
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      const output = await this.extractor(texts.slice(i, i + this.batchSize), { pooling: 'mean', normalize: true });
      out.push(...output.tolist());
    }
    return out;
  }
}
