/**
 * The public surface of fewshot: everything a library user imports comes from here.
 * Modules add their exports below, one line each, grouped by the data flow:
 * data -> samplers -> models -> losses -> training -> evaluation / inference.
 */
export { Rng } from './util/random.js';

// data
export { type Image, type DecodeLimits, decodeImage, detectImageFormat, toGrayscale, toRgb, encodePng } from './data/image.js';
export { type FileSource, openSource, DirectorySource, ZipSource } from './data/source.js';
export { type LayoutName, resolveLayout, isImagePath } from './data/layout.js';
export { type PreprocessConfig, preprocess, resize, cropToInk, invertImage } from './data/preprocess.js';
export { ImageDataset, loadImageDataset, loadImageDatasetFromSource, type LoadImageDatasetOptions } from './data/dataset.js';
export { splitByGroup, splitByClass, omniglotValidationAlphabets, OMNIGLOT_BACKGROUND_ALPHABETS, OMNIGLOT_VALIDATION_SEED } from './data/split.js';
export { type AffineRange, KOCH_AFFINE_RANGE, NO_AFFINE_RANGE, randomAffine, sampleAffine, applyAffine } from './data/augment.js';
export { toBatchTensor, toBatchArray, type BatchOptions } from './data/batch.js';

// samplers

// distances, miners, losses

// models

// training

// evaluation and inference

// backends

// verification

// tracking

// service
