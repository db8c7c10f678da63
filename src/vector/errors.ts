// Errors of the vector store with stable codes; pipeline/ turns them into StepError, http/ into AppError.
export type VectorErrorCode =
  | 'VECTOR_BACKUP_FAILED'
  | 'VECTOR_TRUNCATE_FAILED'
  | 'VECTOR_RESTORE_FAILED'
  | 'VECTOR_BACKUP_NOT_FOUND'
  | 'VECTOR_BACKUP_INVALID'
  | 'VECTOR_DIMENSION_MISMATCH'
  | 'VECTOR_EMBEDDER_MISMATCH'
  | 'VECTOR_EXTENSION_MISSING'
  | 'VECTOR_SCHEMA_INVALID'
  | 'VECTOR_STORE_EMPTY';

export class VectorStoreError extends Error {
  constructor(
    readonly code: VectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VectorStoreError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
