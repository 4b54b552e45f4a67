/**
 * Prototypical networks (Snell et al. 2017): each step is one C-way K-shot episode; the loss is
 * the softmax over negative distances of queries to class prototypes. Training with more ways
 * than are tested (e.g. 60-way for 20-way tests) is the paper's main trick for Omniglot.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createDistance } from '../../distances/create_distance.js';
import type { DistanceName } from '../../distances/distance.js';
import { PrototypicalLoss } from '../../losses/prototypical_loss.js';
import { EpisodeSampler, type Episode } from '../../samplers/episode_sampler.js';
import type { Rng } from '../../util/random.js';
import { classesForBatch } from './within_group.js';
import { concatIndices, embedTraining, type ImageBatchFn, type MethodOptions, type TrainingMethod } from './method.js';

export class ProtonetMethod implements TrainingMethod<Episode> {
  readonly name = 'protonet' as const;
  readonly score = 'negative-distance' as const;
  readonly distance: DistanceName;
  readonly settings: Record<string, unknown>;
  private readonly lossFn: PrototypicalLoss;

  constructor(
    readonly model: tfl.LayersModel,
    private readonly opts: MethodOptions,
  ) {
    this.distance = opts.distance ?? 'sqeuclidean';
    this.lossFn = new PrototypicalLoss({ distance: createDistance(this.distance) });
    this.settings = { way: opts.way, shot: opts.shot, query: opts.query, distance: this.distance, withinGroupEpisodes: opts.withinGroupEpisodes ?? 0 };
  }

  sample(classIndices: number[][], rng: Rng, classGroups?: readonly string[]): Episode {
    const need = this.opts.shot + this.opts.query;
    const usable = classesForBatch(classIndices, rng, this.opts.withinGroupEpisodes ?? 0, need, classGroups);
    const way = Math.min(this.opts.way, usable.length);
    return new EpisodeSampler(usable, { way, shot: this.opts.shot, query: this.opts.query }, rng).sample();
  }

  loss(ep: Episode, images: ImageBatchFn): tf.Scalar {
    const nSupport = ep.support.length;
    const emb = embedTraining(this.model, images(concatIndices(ep.support, ep.query)));
    const support = tf.slice(emb, [0, 0], [nSupport, -1]) as tf.Tensor2D;
    const query = tf.slice(emb, [nSupport, 0], [ep.query.length, -1]) as tf.Tensor2D;
    return this.lossFn.compute(support, ep.supportLabels, query, ep.queryLabels, ep.classes.length);
  }
}
