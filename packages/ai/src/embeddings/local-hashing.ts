import { rejectBlankTexts } from './provider';
import type { EmbeddingProvider } from './provider';

export interface LocalHashingEmbeddingProviderOptions {
  /** Default 1536, the width of the database's vector columns. */
  dimensions?: number;
}

const WORD = /[\p{L}\p{N}]+/gu;
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;

/**
 * Embeddings without any network: feature hashing of the lower-cased words and of
 * the character 3-grams of each word (marked `<word>` so beginnings and endings
 * count), each feature added with a hash-chosen sign to a hash-chosen dimension,
 * then L2-normalised. Deterministic across processes and machines.
 *
 * It is lexical, not semantic: texts are close when they share words or word
 * pieces ("order", "orders"), never because they mean the same thing ("refund" and
 * "money back" are unrelated to it). It is the default when no OpenAI key is
 * configured, so search keeps working offline, with weaker recall. Its vectors
 * are not comparable with any other model's.
 */
export class LocalHashingEmbeddingProvider implements EmbeddingProvider {
  readonly model = 'local-hashing-v1';
  readonly dimensions: number;

  constructor(options: LocalHashingEmbeddingProviderOptions = {}) {
    this.dimensions = options.dimensions ?? 1536;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, got ${this.dimensions}`);
    }
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    rejectBlankTexts(texts);
    return texts.map((text) => this.vector(text));
  }

  private vector(text: string): number[] {
    const sums = new Float64Array(this.dimensions);
    const add = (feature: string, weight: number) => {
      const hash = fnv1a(feature);
      const index = mix(hash) % this.dimensions;
      const sign = mix(hash ^ 0x9e3779b9) & 1 ? 1 : -1;
      sums[index] = (sums[index] as number) + sign * weight;
    };
    const lower = text.toLowerCase();
    const words = lower.match(WORD) ?? [];
    for (const word of words) {
      add(`w:${word}`, WORD_WEIGHT);
      for (const gram of trigrams(`<${word}>`)) add(`g:${gram}`, TRIGRAM_WEIGHT);
    }
    // Text with no letters or digits (emoji, punctuation) still gets a vector of its own.
    if (words.length === 0) for (const gram of trigrams(`<${lower.trim()}>`)) add(`g:${gram}`, TRIGRAM_WEIGHT);

    let norm = 0;
    for (const value of sums) norm += value * value;
    norm = Math.sqrt(norm);
    // Colliding features with opposite signs can cancel out exactly; a zero vector stays zero.
    return Array.from(sums, (value) => (norm === 0 ? 0 : value / norm));
  }
}

function trigrams(padded: string): string[] {
  const chars = Array.from(padded);
  if (chars.length <= 3) return [chars.join('')];
  const grams: string[] = [];
  for (let i = 0; i + 3 <= chars.length; i++) grams.push(chars.slice(i, i + 3).join(''));
  return grams;
}

/** FNV-1a, 32 bits, over UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finaliser: spreads FNV's weak low bits before the modulo. */
function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
