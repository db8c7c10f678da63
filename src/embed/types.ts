// The embedder contract: hashing (offline default), OpenAI-compatible, local ONNX.
export interface Embedder {
  /** Recorded in every vector row's cmetadata (embedding_model) and checked against existing rows. */
  readonly model: string;
  readonly dim: number;
  /** One vector per input, in order, each of length `dim`. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}
