/**
 * `fewshot/node`: everything of the core (`fewshot`) plus what needs Node: files, directories,
 * zips and URLs as data sources, model directories, the training loop with resumable
 * checkpoints, the native oneDNN backend and backend selection, one-call loaders, reports, and
 * the CLI's training command for scripts.
 *
 * @packageDocumentation
 */
export * from './index.js';
// JPEG decoding through libjpeg-turbo (wasm) wherever fewshot/node is loaded
import './data/jpeg_turbo.js';
// the tracker's crops in native code where the addon is built (bitwise the same crops)
import './tracking/native_crop.js';

// data sources and datasets on disk or at a URL
export { openSource, DirectorySource, type OpenSourceOptions } from './data/source.js';
export { loadImageDataset } from './data/dataset.js';
export { loadSupportSet } from './inference/support_set.js';

// model directories
export { saveModel, loadModel, readMetadata } from './models/io.js';
export { ensembleFromModelDirs, saveEnsembleOfModelDirs, type EnsembleMemberInfo } from './models/ensemble_dirs.js';
export { writeThreshold } from './verification/calibration.js';
export { DEFAULT_MODEL_DIR, SIAMESE_MODEL_DIR } from './inference/default_model.js';
export { loadScorer, loadClassifier, loadVerifier, type LoadOptions } from './inference/load.js';

// backends
export { selectBackend, type BackendName } from './backend/select.js';
export { registerNativeBackend } from './backend/native/backend.js';
export { NATIVE_ADVICE } from './backend/native/addon.js';
export { setTrainingPrecision, trainingPrecision, withTrainingPrecision, type TrainingPrecision } from './backend/native/precision.js';
export { compileInferencePlan, type NativeInferencePlan } from './backend/native/inference_plan.js';
export { loadOnnxRuntime, OrtSession } from './backend/onnx/runtime.js';
export { setInferenceEngine, inferenceEngine, type InferenceEngine } from './inference/native_runners.js';
export { exportModelDirToOnnx } from './export/onnx/model_dir.js';

// training with checkpoints, logs and best-model saving
export type { CalibratedThreshold } from './training/trainer.js';
export type { LogRecord } from './training/jsonl_log.js';
export type { ProgressInfo } from './training/progress.js';
export type { ReportPair } from './report/html.js';
export { trainModel, CHECKPOINT_FILE, LOG_FILE, type TrainConfig, type TrainResult, type TrainHooks, type ValidationConfig } from './training/trainer.js';
export { readCheckpoint, writeCheckpoint, type Checkpoint, type TrainingProgress } from './training/checkpoint.js';
export { JsonlLog, readJsonl } from './training/jsonl_log.js';
export { ProgressReporter } from './training/progress.js';
export { trainCommand, runTrainCommand, type TrainCliOptions } from './cli/commands/train.js';

// evaluation fixtures and reports
export { writeLakeRunsFixture, type RunsFixtureOptions } from './evaluation/runs_fixture.js';
export { measureOnOmniglotValidation, type OmniglotValidationRow } from './evaluation/omniglot_validation.js';
export { renderReportHtml, writeReport, type ReportInput } from './report/html.js';

// applications and tracking data on disk
export {
  SIGNATURES_PREPROCESS, parseSignaturePath, listSignatureFiles, loadSignatures, splitByPerson, writerFolds, type SignatureFile, type SignatureSet,
} from './applications/signatures/layout.js';
export { loadSequence, loadSequences, findSequenceFolders, sequenceFromSource } from './tracking/sequence.js';
export { writeTrackingReport } from './tracking/report.js';
// SiamFC networks: the pretrained backbone's weights are read from models/ on disk.
export {
  type SiamNetwork,
  EncoderSiamNetwork,
  PretrainedSiamNetwork,
  buildPretrainedHead,
  scorePairs,
  DEFAULT_PRETRAINED,
  type PretrainedSiamConfig,
  type FineTunedWeights,
} from './tracking/siam_network.js';
export { PretrainedBackbone, BACKBONES, type BackboneSpec } from './models/pretrained_backbone.js';
export { backboneEncoder, poolFeatureMap, validateBackboneConfig, BACKBONE_ENCODER, type BackboneEncoderConfig } from './models/backbone_encoder.js';
// SiamFC training (its networks may hold a pretrained backbone read from disk)
export { trainSiamFC, type TrainOptions as TrackerTrainOptions } from './tracking/train.js';
export type { TrainResult as TrackerTrainResult } from './tracking/train.js';
export { saveTrackingModel, loadTrackingModel, type TrackerMetadata, type FusedTrackerConfig } from './tracking/model_io.js';
export { loadTracker, type LoadedTracker } from './tracking/loaded_tracker.js';
export { loadTrackerModel, DEFAULT_TRACKING_MODEL_DIR } from './tracking/default_model.js';

// types the Node API refers to
export type { ExportedModel } from './export/onnx/model_dir.js';
export type { NativeAddon } from './backend/native/addon.js';
export type { PlanSpec, PlanOp } from './backend/native/inference_plan.js';
export type { OmniglotValidationOptions } from './evaluation/omniglot_validation.js';
export type { OrtSessionOptions, OrtModules, NativeSession } from './backend/onnx/runtime.js';

// the face pipeline (face-api's networks from node_modules): detect, landmarks, align, describe
export { FacePipeline, type AlignedFace, type DetectOptions, type FaceBox } from './applications/faces/pipeline.js';
export { registerJpegDecoder, type JpegDecoder } from './data/image.js';
