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
export { type ClassIndices } from './samplers/class_indices.js';
export { PairSampler, type PairBatch } from './samplers/pair_sampler.js';
export { TripletSampler, type TripletBatch } from './samplers/triplet_sampler.js';
export { EpisodeSampler, type Episode, type EpisodeOptions } from './samplers/episode_sampler.js';
export { MPerClassSampler, type LabelledBatch, type MPerClassOptions } from './samplers/m_per_class_sampler.js';

// distances, miners, losses
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
export { PairBinaryCrossEntropyLoss } from './losses/pair_binary_cross_entropy_loss.js';
export { ContrastiveLoss, type ContrastiveLossOptions } from './losses/contrastive_loss.js';
export { TripletMarginLoss, type TripletMarginLossOptions } from './losses/triplet_margin_loss.js';
export { PrototypicalLoss, classPrototypes, type PrototypicalResult } from './losses/prototypical_loss.js';

// models
export { type EncoderOptions } from './models/encoders/encoder_options.js';
export { createEncoder, registerEncoder, encoderNames, defaultInputShape, embeddingDimOf, type EncoderFactory } from './models/encoders/registry.js';
export { AbsDifference } from './models/layers/abs_difference.js';
export { buildPairModel, splitPairModel, pairLogitModel, type PairModelOptions, type SplitPairModel } from './models/siamese.js';
export { type ModelMetadata, validateMetadata, createMetadata, METADATA_FORMAT } from './models/metadata.js';
export { saveModel, loadModel, readMetadata, serializeModel } from './models/io.js';
export { saveOptimizerState, loadOptimizerState } from './models/optimizer_state.js';

// training
export { trainModel, buildEncoder, stepRng, CHECKPOINT_FILE, LOG_FILE, type TrainConfig, type TrainResult, type TrainHooks, type ValidationConfig } from './training/trainer.js';
export { createMethod } from './training/methods/index.js';
export { METHOD_NAMES, MINER_NAMES, type MethodName, type MinerName, type MethodOptions, type TrainingMethod } from './training/methods/method.js';
export { createSchedule, SCHEDULE_NAMES, type ScheduleConfig, type ScheduleName, type LearningRateSchedule } from './training/schedule.js';
export { createOptimizer, setLearningRate, getOptimizerState, setOptimizerState, OPTIMIZER_NAMES, type OptimizerName } from './training/optimizer.js';
export { readCheckpoint, writeCheckpoint, type Checkpoint, type TrainingProgress } from './training/checkpoint.js';
export { JsonlLog, readJsonl } from './training/jsonl_log.js';
export { ProgressReporter } from './training/progress.js';
export { withClassRotations, rotate90 } from './training/rotations.js';

// evaluation and inference
export { meanWithCi95, type MeanWithCi } from './evaluation/stats.js';
export { EmbeddingCache } from './evaluation/embedding_cache.js';
export { evaluateEpisodes, sampleEvaluationEpisodes, type EpisodeEvalOptions, type EpisodeEvalResult, type EpisodeGrouping } from './evaluation/episodes.js';
export { readLakeRuns, evaluateLakeRun, evaluateLakeRuns, type LakeRun, type LakeRunResult, type LakeRunsResult } from './evaluation/lake_runs.js';
export { writeLakeRunsFixture, type RunsFixtureOptions } from './evaluation/runs_fixture.js';
export { SiameseScorer } from './inference/embedder.js';
export { FewShotClassifier, UNKNOWN, type FewShotClassifierOptions, type SupportClass, type Prediction as FewShotPrediction, type RankedClass, type SupportMode } from './inference/few_shot_classifier.js';
export { loadSupportSet } from './inference/support_set.js';
export { DEFAULT_MODEL_DIR } from './inference/default_model.js';

// backends
export { selectBackend, type BackendName } from './backend/select.js';
export { registerNativeBackend, NativeBackend } from './backend/native/backend.js';
export { loadNativeAddon, NATIVE_ADVICE, type NativeAddon } from './backend/native/addon.js';
export { batchNormTraining } from './backend/native/batch_norm_layer.js';

// verification
export {
  rocCurve, auc, equalErrorRate, operatingPointAtFar, tarAtFar, statsAtThreshold, summarize, acceptsAt,
  type ScoreDirection, type LabelledScores, type RocPoint, type VerificationSummary, type ThresholdStats,
} from './verification/metrics.js';
export { scoreKindOf, similarityToScore, scoreToSimilarity, type ScoreKind, type StoredThreshold } from './verification/score_kind.js';
export { Verifier, type VerificationResult, type SimilarityScorer } from './verification/verifier.js';
export { allPairs, sampledPairs, pairSimilarities, type VerificationPairs } from './verification/pairs.js';
export { calibrateThreshold, writeThreshold, parseCalibrationTarget, type CalibrationTarget } from './verification/calibration.js';
export { evaluatePairs, pairEvaluationJson, type PairEvaluation } from './verification/evaluate.js';
export { evaluateOpenSet, calibrateOpenSetThreshold, type OpenSetOptions, type OpenSetResult } from './verification/open_set.js';
export { renderReportHtml, writeReport, type ReportInput } from './report/html.js';
export { NORM_CONV4, normConv4Encoder } from './applications/normalized_conv4.js';
export { FACES_PREPROCESS, splitAttFaces, evaluateFaces } from './applications/faces/att.js';
export {
  SIGNATURES_PREPROCESS, parseSignaturePath, listSignatureFiles, loadSignatures, splitByPerson, writerFolds, type SignatureFile, type SignatureSet,
} from './applications/signatures/layout.js';
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
export { type TrackingSequence, loadSequence, loadSequences, findSequenceFolders, sequenceFromSource } from './tracking/sequence.js';
export { cropResize, exemplarSide } from './tracking/crop.js';
export { crossCorrelate, CrossCorrelation } from './tracking/cross_correlation.js';
export { buildSiamFC, splitSiamFC, createTrackingEncoder, scorePairs, DEFAULT_SIAMFC, type SiamFCConfig } from './tracking/siamfc_model.js';
export { SiamTracker, SIAMFC_PARAMS, type TrackerParams, type ResponseScorer } from './tracking/tracker.js';
export { SiamFCScorer, NccScorer } from './tracking/scorers.js';
export { scoreSequence, successCurve, precisionCurve, successAuc, type SequenceScores } from './tracking/metrics.js';
export { runTrackers, runSequence, type SequenceRun } from './tracking/run.js';
export { evaluateTracking, type TrackingEvaluation } from './tracking/evaluate.js';
export { writeTrackingReport } from './tracking/report.js';
export { saveTrackingModel, loadTrackingModel, type TrackerMetadata } from './tracking/model_io.js';
export { trainSiamFC, type TrainOptions as TrackerTrainOptions } from './tracking/train.js';
export { VideoPairSource, StillPairSource, scoreLabels, curateFrame } from './tracking/training_pairs.js';
export { balancedLogisticLoss } from './tracking/loss.js';

// service
export { Gallery, galleryDir, type GalleryOptions, type GalleryExport, type NewExample, type ExampleInfo, type ClassSummary } from './service/gallery.js';
export { ExactIndex, HnswIndex, type VectorIndex, type Metric, type Neighbour } from './service/vector_index.js';
export { recognize, type Recognition, type Prediction as GalleryPrediction } from './service/recognizer.js';
export { loadServedModel, modelFingerprint, type EmbeddingModel, type ServedModel } from './service/model.js';
export { buildServer, type ServerOptions } from './service/server.js';
export { startService, type ServiceOptions, type RunningService } from './service/service.js';
export { DEFAULT_LIMITS, type ServiceLimits } from './service/limits.js';
