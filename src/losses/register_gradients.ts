/**
 * Side-effect import that makes every tfjs-core op differentiable. tfjs-core's Node bundle
 * registers no gradients (the full @tensorflow/tfjs package normally does it); tfjs-layers' Node
 * bundle registers all of them into the shared global registry, and the models need it anyway.
 * Imported by every loss so that `tf.variableGrads(() => loss.compute(...))` works on its own.
 */
import '@tensorflow/tfjs-layers';
