/**
 * Wires the learned safeguard layer: the shipped model artefact (behaviors/) with the device's
 * sentence encoder (perception/). Loaded once per process; a failure is returned to the caller,
 * which decides what the protocol allows (block new sessions, or rules only).
 */
import { LearnedLayer, loadSafeguardModel } from '../behaviors/index.js';
import { UseLiteEncoder } from '../perception/index.js';

/** Where to load from; defaults are the shipped artefact and `models/`. */
export interface LearnedLoadOptions {
  modelPath?: string;
  modelsDir?: string;
}

const loaded = new Map<string, Promise<LearnedLayer>>();

/** Load (once per paths) the learned layer. Rejects with a message naming the file at fault. */
export function loadLearnedLayer(o: LearnedLoadOptions = {}): Promise<LearnedLayer> {
  const key = `${o.modelPath ?? ''}|${o.modelsDir ?? ''}`;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const model = loadSafeguardModel(o.modelPath);
      const encoder = await UseLiteEncoder.load(o.modelsDir ? { modelsDir: o.modelsDir } : {});
      return new LearnedLayer(model, encoder);
    })();
    // A failed load is not cached: the next session start tries again (the file may be restored).
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/** What the companion learns before each session. */
export interface SafeguardGateResult {
  learned: LearnedLayer | null;
  /** Why the learned layer is not available, or null. */
  failure: string | null;
  policy: 'block' | 'rules_only';
}

/** A gate that (re)tries loading the learned layer before each session. */
export function learnedSafeguardGate(policy: 'block' | 'rules_only', load: () => Promise<LearnedLayer> = () => loadLearnedLayer()): () => Promise<SafeguardGateResult> {
  return async () => {
    try {
      return { learned: await load(), failure: null, policy };
    } catch (error) {
      return { learned: null, failure: (error as Error).message, policy };
    }
  };
}
