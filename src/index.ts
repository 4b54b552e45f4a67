/**
 * The public surface of fewshot: everything a library user imports comes from here.
 * Modules add their exports below, one line each, grouped by the data flow:
 * data -> samplers -> models -> losses -> training -> evaluation / inference.
 */
export { Rng } from './util/random.js';

// data

// samplers

// distances, miners, losses

// models

// training

// evaluation and inference

// backends

// verification

// tracking

// service
