/**
 * Where the shipped Omniglot model lives: `models/omniglot/` at the package root, found from
 * this file's location so that it works from src/ (tsx) and from dist/ (compiled) alike.
 */
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../models/omniglot/', import.meta.url));
/** The shipped Siamese pair network (Koch et al.'s head on an ensemble encoder, see its validation.json): `models/omniglot-siamese/`. */
export const SIAMESE_MODEL_DIR = fileURLToPath(new URL('../../models/omniglot-siamese/', import.meta.url));
