/**
 * A tracking model folder as what the tracker needs: its search parameters and a fresh score-map
 * maker per run. One network (model_io.ts) makes a SiamFCScorer; a fused tracker
 * (`network.kind: "fused"` in tracker.json) holds member folders, each one network, whose maps a
 * FusedScorer combines with the stored weights. Commands and evaluations load trackers through
 * here, so a fused tracker runs wherever a single one does. With `filterWeight` in the params,
 * every network scores through a DiscriminativeScorer (a first-frame filter on its features).
 */
import { join, resolve, sep } from 'node:path';
import { DiscriminativeScorer, discriminativeOptions, type DiscriminativeOptions } from './discriminative_scorer.js';
import { FusedScorer, validateWeights } from './fused_scorer.js';
import { isFused, loadTrackingModel, readTrackerMetadata, type TrackerMetadata } from './model_io.js';
import { isOnline } from './online_template.js';
import { SiamFCScorer } from './scorers.js';
import type { SiamNetwork } from './siam_network.js';
import type { ResponseScorer, TrackerParams } from './tracker.js';

export interface LoadedTracker {
  /** The folder's tracker.json: the search parameters (`params`) the tracker runs with. */
  meta: TrackerMetadata;
  /** The networks: one, or a fused tracker's members in order. */
  networks: SiamNetwork[];
  /**
   * A new scorer (its own exemplar state) over the loaded networks, with the discriminative filter
   * the params ask for (default: the folder's own params; e.g. `{ ...meta.params, filterWeight: 0 }`
   * for the same tracker without it).
   */
  scorer(params?: TrackerParams): ResponseScorer;
  /** Frees the networks. */
  dispose(): void;
}

export async function loadTracker(dir: string): Promise<LoadedTracker> {
  const meta = readTrackerMetadata(dir);
  const filterOf = (params: TrackerParams): DiscriminativeOptions | null => {
    const filter = discriminativeOptions(params);
    if (filter && isOnline(params)) throw new Error('the discriminative filter (filterWeight) and the online template options cannot be combined');
    return filter;
  };
  try {
    filterOf(meta.params);
  } catch (e) {
    throw new Error(`${join(dir, 'tracker.json')}: ${(e as Error).message}`);
  }
  // One network's scorer: with the filter when the params ask for it.
  const scorerOf = (params: TrackerParams) => {
    const filter = filterOf(params);
    return (network: SiamNetwork): ResponseScorer => (filter ? new DiscriminativeScorer(network, filter) : new SiamFCScorer(network));
  };
  if (!isFused(meta.network)) {
    const { network } = await loadTrackingModel(dir);
    return { meta, networks: [network], scorer: (params = meta.params) => scorerOf(params)(network), dispose: () => network.dispose() };
  }
  const { members } = meta.network;
  if (!Array.isArray(members) || members.length < 2) throw new Error(`${join(dir, 'tracker.json')}: a fused tracker needs at least 2 members`);
  if (isOnline(meta.params)) {
    throw new Error(`${join(dir, 'tracker.json')}: the online template options (templateRate, distractorWeight) update one network's template; a fused tracker cannot use them`);
  }
  const weights = members.map((m) => m.weight);
  try {
    validateWeights(weights, members.length);
  } catch (e) {
    throw new Error(`${join(dir, 'tracker.json')}: ${(e as Error).message}`);
  }
  const networks: SiamNetwork[] = [];
  try {
    for (const m of members) {
      const memberDir = resolve(dir, String(m.dir));
      // Members live inside the folder: a tracker.json cannot point elsewhere on the disk.
      if (!memberDir.startsWith(resolve(dir) + sep)) throw new Error(`${join(dir, 'tracker.json')}: member folder ${m.dir} is outside the tracker's folder`);
      const { network, meta: memberMeta } = await loadTrackingModel(memberDir);
      for (const k of ['exemplarSize', 'searchSize'] as const) {
        if (memberMeta.params[k] !== meta.params[k]) {
          network.dispose();
          throw new Error(`${memberDir}: ${k} ${memberMeta.params[k]}, the fused tracker searches with ${meta.params[k]}: members must share the crop geometry`);
        }
      }
      networks.push(network);
    }
  } catch (e) {
    for (const n of networks) n.dispose();
    throw e;
  }
  return {
    meta,
    networks,
    scorer: (params = meta.params) => new FusedScorer(networks.map(scorerOf(params)), weights),
    dispose: () => networks.forEach((n) => n.dispose()),
  };
}
