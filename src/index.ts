/**
 * `fewshot`: the browser-safe core. Data from bytes, samplers, models, losses, training methods,
 * evaluation, inference and verification; no Node built-in is imported from here (a test bundles
 * this entry for the browser and fails on any). Files, zips on disk, the native backend, the
 * training loop with checkpoints and the one-call loaders are in `fewshot/node`; the HTTP
 * service in `fewshot/service`.
 *
 * Grouped by the data flow: data -> samplers -> models -> losses -> training -> evaluation /
 * inference -> verification. Add one line per public symbol; internals stay unexported.
 *
 * @packageDocumentation
 */
import { silenceCpuBackendGreeting } from './backend/quiet_cpu.js';

silenceCpuBackendGreeting();

export { Rng } from './util/random.js';

// data (from bytes)
export { type Image, type DecodeLimits, type ImageFormat, decodeImage, detectImageFormat, toGrayscale, toRgb, encodePng } from './data/image.js';
export { type FileSource, ZipSource, isZip } from './data/zip_source.js';
export { type LayoutName, resolveLayout, isImagePath } from './data/layout.js';
export { detectInk, type InkDecision } from './data/ink.js';
export { type PreprocessConfig, type FaceDetectionConfig, type FaceDetectorName, preprocess, resize, cropToInk, invertImage } from './data/preprocess.js';
export { ImageDataset, type ImageDatasetInit, loadImageDatasetFromSource, type LoadImageDatasetOptions } from './data/image_dataset.js';
export type { GroupSplitOptions, Split } from './data/split.js';
export type { LabelledFile, ResolvedLayout } from './data/layout.js';
export { splitByGroup, splitByClass, omniglotValidationAlphabets, OMNIGLOT_BACKGROUND_ALPHABETS, OMNIGLOT_VALIDATION_SEED } from './data/split.js';
export { type AffineRange, KOCH_AFFINE_RANGE, NO_AFFINE_RANGE, randomAffine } from './data/augment.js';
export { toBatchTensor, type BatchOptions } from './data/batch.js';

// samplers
export { type ClassIndices } from './samplers/class_indices.js';
export { PairSampler, type PairBatch } from './samplers/pair_sampler.js';
export { TripletSampler, type TripletBatch } from './samplers/triplet_sampler.js';
export { EpisodeSampler, type Episode, type EpisodeOptions } from './samplers/episode_sampler.js';
export { MPerClassSampler, type LabelledBatch, type MPerClassOptions } from './samplers/m_per_class_sampler.js';
export { UniformBatchSampler } from './samplers/uniform_batch_sampler.js';

// distances, reducers, miners, losses
export { type Distance, type DistanceName } from './distances/distance.js';
export { EuclideanDistance } from './distances/euclidean_distance.js';
export { SqEuclideanDistance } from './distances/sq_euclidean_distance.js';
export { CosineDistance, l2Normalize } from './distances/cosine_distance.js';
export { createDistance, DISTANCE_NAMES } from './distances/create_distance.js';
export { type Reducer } from './reducers/reducer.js';
export { MeanReducer } from './reducers/mean_reducer.js';
export { AvgNonZeroReducer } from './reducers/avg_non_zero_reducer.js';
export { type TripletMiner, type MinedTriplets } from './miners/triplet_miner.js';
export { BatchAllMiner } from './miners/batch_all_miner.js';
export { BatchHardMiner } from './miners/batch_hard_miner.js';
export { SemiHardMiner } from './miners/semi_hard_miner.js';
export { type LabelsLike } from './miners/label_masks.js';
export type { PairBinaryCrossEntropyLossOptions } from './losses/pair_binary_cross_entropy_loss.js';
export type { PrototypicalLossOptions } from './losses/prototypical_loss.js';
export { PairBinaryCrossEntropyLoss } from './losses/pair_binary_cross_entropy_loss.js';
export { ContrastiveLoss, type ContrastiveLossOptions } from './losses/contrastive_loss.js';
export { TripletMarginLoss, type TripletMarginLossOptions } from './losses/triplet_margin_loss.js';
export { PrototypicalLoss, classPrototypes, type PrototypicalResult } from './losses/prototypical_loss.js';

// models
export type { ResolvedEncoderOptions } from './models/encoders/encoder_options.js';
export { type EncoderOptions } from './models/encoders/encoder_options.js';
export { createEncoder, registerEncoder, encoderNames, defaultInputShape, embeddingDimOf, type EncoderFactory } from './models/encoders/registry.js';
export { AbsDifference } from './models/layers/abs_difference.js';
export { CosineClassifier, type CosineClassifierArgs } from './models/layers/cosine_classifier.js';
export { L2Normalization } from './models/layers/l2_normalization.js';
export { buildEnsembleModel, ensembleMembers } from './models/ensemble.js';
export { buildPairModel, splitPairModel, pairLogitModel, type PairModelOptions, type SplitPairModel } from './models/siamese.js';
export { type ModelMetadata, validateMetadata, createMetadata, METADATA_FORMAT } from './models/metadata.js';
export { serializeModel, modelFromArtifacts, type ModelArtifactsInput, MODEL_JSON, WEIGHTS_BIN } from './models/serialize.js';
export { NORM_CONV4, normConv4Encoder } from './applications/normalized_conv4.js';

// training methods (the loop with checkpoints and files is trainModel in fewshot/node)
export type { ImageBatchFn } from './training/methods/method.js';
export type { OptimizerConfig } from './training/optimizer.js';
export { createMethod } from './training/methods/index.js';
export { METHOD_NAMES, MINER_NAMES, type MethodName, type MinerName, type MethodOptions, type TrainingMethod } from './training/methods/method.js';
export { createSchedule, SCHEDULE_NAMES, type ScheduleConfig, type ScheduleName, type LearningRateSchedule } from './training/schedule.js';
export { createOptimizer, setLearningRate, getOptimizerState, setOptimizerState, OPTIMIZER_NAMES, type OptimizerName, type OptimizerState } from './training/optimizer.js';
export { withClassRotations } from './training/rotations.js';
export { checkTrainingPlan, type PlanToCheck, type PlanCheck } from './training/preflight.js';

// evaluation
export type { SampledEpisode } from './evaluation/episodes.js';
export { meanWithCi95, type MeanWithCi } from './evaluation/stats.js';
export { EmbeddingCache } from './evaluation/embedding_cache.js';
export { evaluateEpisodes, sampleEvaluationEpisodes, type EpisodeEvalOptions, type EpisodeEvalResult, type EpisodeGrouping } from './evaluation/episodes.js';
export { readLakeRuns, evaluateLakeRun, evaluateLakeRuns, type LakeRun, type LakeRunOptions, type LakeRunResult, type LakeRunsResult } from './evaluation/lake_runs.js';
export { assign, assignArgmax, assignHungarian, RUN_ASSIGNMENTS, type RunAssignment } from './evaluation/assignment.js';
export { TTA_TRANSFORMS, MAX_TTA_VIEWS, jitteredViews } from './inference/test_time_augmentation.js';

// inference
export { SiameseScorer } from './inference/embedder.js';
export { FewShotClassifier, UNKNOWN, type FewShotClassifierOptions, type SupportClass, type Prediction, type RankedClass, type SupportMode } from './inference/few_shot_classifier.js';
// ONNX export
export { exportOnnx, type OnnxExportOptions } from './export/onnx/export.js';
export { createEncoderRunner, setEncoderRunnerFactory, TfjsRunner, type EncoderRunner, type EncoderRunnerFactory } from './inference/encoder_runner.js';

// verification
export {
  rocCurve, auc, equalErrorRate, operatingPointAtFar, tarAtFar, statsAtThreshold, summarize, acceptsAt,
  type ScoreDirection, type LabelledScores, type RocPoint, type VerificationSummary, type ThresholdStats,
} from './verification/metrics.js';
export type { ScoreMeta } from './verification/score_kind.js';
export type { EqualErrorRate, FarOperatingPoint } from './verification/metrics.js';
export type { PairEvaluationOptions } from './verification/evaluate.js';
export type { ClassIndices as OpenSetClassIndices } from './verification/open_set.js';
export { scoreKindOf, similarityToScore, scoreToSimilarity, type ScoreKind, type StoredThreshold } from './verification/score_kind.js';
export { Verifier, type VerificationResult, type SimilarityScorer } from './verification/verifier.js';
export { allPairs, sampledPairs, pairSimilarities, type VerificationPairs } from './verification/pairs.js';
export { calibrateThreshold, parseCalibrationTarget, type Calibration, type CalibrationTarget } from './verification/threshold.js';
export { evaluatePairs, pairEvaluationJson, type PairEvaluation } from './verification/evaluate.js';
export { evaluateOpenSet, calibrateOpenSetThreshold, type OpenSetOptions, type OpenSetResult } from './verification/open_set.js';

// applications
export type { FaceEvaluation, FaceSplit } from './applications/faces/att.js';
export type { ReferenceAggregate, ReferenceEvalOptions, ReferenceTrial } from './applications/signatures/reference_verification.js';
export { FACES_PREPROCESS, splitAttFaces, evaluateFaces } from './applications/faces/att.js';
export {
  evaluateReferenceVerification, referenceSimilarity, SIGNATURE_DECISIONS, type ReferenceEvalResult, type SignatureDecision,
} from './applications/signatures/reference_verification.js';
export {
  WriterDependentVerifier, REFERENCE_DECISIONS, type WriterClassifier, type WriterDependentOptions, type WriterDependentKernel, type LabelledEmbedding, type ReferenceDecision,
} from './verification/writer_dependent.js';
export { LogisticRegression, type LogisticRegressionOptions } from './verification/logistic_regression.js';
export { normalizeInk, removeBackground, otsuThreshold, BlankImageError, type InkNormalization } from './data/ink_normalize.js';

// tracking
export { type Box, iou, centerError, fromOtb, toOtb } from './tracking/boxes.js';
export { parseGroundTruth } from './tracking/ground_truth.js';
export type { TrackingSequence } from './tracking/sequence.js';
export type { CrossCorrelationArgs } from './tracking/cross_correlation.js';
export type { CurvePoint } from './tracking/metrics.js';
export type { SequenceResult, TrackerSummary } from './tracking/evaluate.js';
export type { TrackerSpec } from './tracking/run.js';
export type { CuratedFrame, JitterOptions, PairGeometry, StillImage, TrainingPair } from './tracking/training_pairs.js';
export { crossCorrelate, CrossCorrelation } from './tracking/cross_correlation.js';
export { buildSiamFC, splitSiamFC, createTrackingEncoder, DEFAULT_SIAMFC, type SiamFCConfig } from './tracking/siamfc_model.js';
export { SiamTracker, SIAMFC_PARAMS, type TrackerParams, type ResponseScorer } from './tracking/tracker.js';
export { SiamFCScorer, NccScorer } from './tracking/scorers.js';
export { FusedScorer } from './tracking/fused_scorer.js';
export { DiscriminativeScorer, DEFAULT_DISCRIMINATIVE, type DiscriminativeOptions } from './tracking/discriminative_scorer.js';
export { learnDiscriminativeFilter, refineFilter, gaussianLabel, type FilterLearning, type LearnedFilter, type Refinement } from './tracking/discriminative_filter.js';
export { apce, ConfidenceGate } from './tracking/confidence.js';
export { TemplateMemory, type TemplateMemoryOptions } from './tracking/template_memory.js';
export { OnlineTemplate } from './tracking/online_template.js';
export type { MapPeak } from './tracking/response.js';
export { scoreSequence, successCurve, precisionCurve, successAuc, type SequenceScores } from './tracking/metrics.js';
export { runTrackers, runSequence, type SequenceRun } from './tracking/run.js';
export { evaluateTracking, type TrackingEvaluation, type LearnedTracker } from './tracking/evaluate.js';
export { VideoPairSource, StillPairSource, scoreLabels } from './tracking/training_pairs.js';

// types the public API refers to
export type { AffineTransform } from './data/augment.js';
export type { FittedLogisticRegression } from './verification/logistic_regression.js';
export type { Encoder } from './inference/encoder_runner.js';
export type { FaceFinder, FoundFace, FaceJson } from './inference/embedder.js';
export { NoFaceFoundError, faceJson } from './inference/embedder.js';
export type { WriterDependentSettings } from './verification/writer_dependent.js';
export type { SequenceSummary } from './tracking/evaluate.js';
