/** Options shared by every encoder factory. */
export interface EncoderOptions {
  /** [height, width, channels]; each encoder has its own default. */
  inputShape?: [number, number, number];
  /** Size of the output embedding; each encoder has its own default. */
  embeddingDim?: number;
  /** Seed of the weight initialisers (default 0): same seed, same initial weights. */
  seed?: number;
}

export type ResolvedEncoderOptions = Required<Pick<EncoderOptions, 'inputShape' | 'seed'>> & Pick<EncoderOptions, 'embeddingDim'>;

/** Every encoder model carries this name, so a pair model's encoder can be found by name. */
export const ENCODER_MODEL_NAME = 'encoder';

/** Spatial size after a 'valid' convolution or a pooling, with a clear error when it vanishes. */
export function shrink(size: number, kernel: number, stride: number, encoder: string, inputShape: readonly number[]): number {
  const out = Math.floor((size - kernel) / stride) + 1;
  if (out < 1) throw new Error(`encoder '${encoder}': input ${inputShape.join('x')} is too small for its layers`);
  return out;
}
