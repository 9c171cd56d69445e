import { AppError } from '@dealdome/domain';

export interface EmbedOptions {
  signal?: AbortSignal;
}

/**
 * Turns texts into vectors. Vectors of different providers or models live in
 * different spaces: store `model` with every vector and never compare across models.
 */
export interface EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  /** One vector per text, in order. Empty or whitespace-only texts are rejected. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
}

/**
 * Empty and whitespace-only texts are rejected, not replaced: a placeholder would
 * store a vector that matches nothing real, and a caller sending an empty chunk
 * has a bug worth seeing. The error names every offending index and is a 400, so
 * a job handler can treat it as unrecoverable.
 */
export function rejectBlankTexts(texts: readonly string[]): void {
  const blank = texts.flatMap((text, index) => (text.trim() === '' ? [index] : []));
  if (blank.length === 0) return;
  throw new AppError(
    400,
    'embedding_input_invalid',
    `Cannot embed empty text (index ${blank.slice(0, 10).join(', ')}${blank.length > 10 ? ', …' : ''}).`,
    Object.fromEntries(blank.map((index) => [`texts.${index}`, ['is empty']])),
  );
}
