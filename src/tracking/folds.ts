/**
 * The 2-fold cross-validation split of the 6 provided sequences (../shared/data/tracking), used
 * to choose networks (scripts/train-tracking.ts) and search parameters
 * (scripts/tune-tracking-search.ts): each fold mixes OTB and UAV123 sequences; 861 / 574 frames.
 */
export const TRACKING_FOLDS: readonly (readonly string[])[] = [
  ['Crossing', 'Girl', 'person11'],
  ['Football1', 'Human3', 'boat1'],
];
