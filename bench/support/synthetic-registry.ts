import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { NewVersion, RegistryRepository } from '../../electron/services/registry/registry-repository';
import { seededRandom } from '../../shared/seeded-random';

export { seededRandom };

export const families = [
  'resnet', 'resnext', 'wide-resnet', 'bert', 'roberta', 'distilbert', 'albert', 'electra', 'deberta', 'gpt2', 'gpt-neo', 'llama', 'mistral', 'phi', 'qwen',
  't5', 'flan-t5', 'bart', 'pegasus', 'marian', 'vit', 'deit', 'swin', 'convnext', 'efficientnet', 'mobilenet', 'shufflenet', 'regnet', 'densenet', 'inception',
  'yolo', 'detr', 'retinanet', 'faster-rcnn', 'mask-rcnn', 'sam', 'dino', 'clip', 'blip', 'whisper', 'wav2vec2', 'hubert', 'conformer', 'tacotron', 'fastspeech',
  'hifigan', 'unet', 'unet3d', 'stable-diffusion', 'vae', 'stylegan', 'pix2pix', 'esrgan', 'nerf', 'pointnet', 'graphsage', 'gcn', 'tabnet', 'xlnet', 'longformer',
];
const variants = ['tiny', 'small', 'base', 'large', 'xl', '18', '34', '50', '101', '152', 'v2', 'v3', 'v5', 'v8', 'lite', 'int8', 'fp16', 'distilled', 'finetuned', 'nano', 'medium', 'b0', 'b4', 'b7', 'mini'];
const domains = ['imagenet', 'coco', 'squad', 'glue', 'librispeech', 'cityscapes', 'ade20k', 'kinetics', 'wikitext', 'c4', 'laion', 'voc', 'mnist', 'cifar10', 'openimages', 'commonvoice', 'medical', 'legal', 'finance', 'retail', 'satellite', 'driving', 'chat', 'code', 'multilingual', 'german', 'french', 'japanese', 'chinese', 'spanish'];
const scopes = ['vision', 'nlp', 'audio', 'acme', 'research', 'edge', 'medlab', 'geo'];
const tasks = [
  'image classification', 'object detection', 'semantic segmentation', 'instance segmentation', 'text classification', 'question answering', 'summarization', 'translation',
  'speech recognition', 'text to speech', 'image generation', 'super resolution', 'depth estimation', 'pose estimation', 'sentiment analysis', 'named entity recognition',
  'code completion', 'embedding', 'retrieval', 'anomaly detection', 'time series forecasting', 'recommendation', 'point cloud classification', 'graph classification',
];
const adjectives = ['A compact', 'A fast', 'A robust', 'An accurate', 'A lightweight', 'A production-ready', 'A quantized', 'A pretrained', 'A fine-tuned', 'A distilled', 'An experimental', 'A multilingual'];
const extras = [
  'Exported with torsh 0.1.', 'Weights in safetensors format.', 'Includes the tokenizer and config.', 'Suitable for edge devices.', 'Trained with mixed precision.',
  'Evaluated on the standard benchmark.', 'See the docs folder for usage.', 'Calibrated for int8 inference.', 'Batch size 32, 90 epochs.', '',
];
const tags = [
  'vision', 'nlp', 'audio', 'multimodal', 'classification', 'detection', 'segmentation', 'generation', 'pytorch', 'torsh', 'onnx', 'quantized', 'int8', 'fp16', 'edge',
  'mobile', 'transformer', 'cnn', 'diffusion', 'speech', 'llm', 'embedding', 'retrieval', 'tabular', 'graph', '3d', 'medical', 'research', 'production', 'experimental',
];
const authors = Array.from({ length: 200 }, (_, index) => `team-${index.toString(36)}@example.org`);
const licenses = ['MIT', 'Apache-2.0', 'BSD-3-Clause', 'CC-BY-4.0', 'GPL-3.0', null];
const resourceKinds: Array<[string, string]> = [
  ['models/weights.pt', 'Model'], ['models/encoder/weights.pt', 'Model'], ['models/decoder/weights.pt', 'Model'], ['config/model.yaml', 'Config'],
  ['config/tokenizer.json', 'Config'], ['docs/README.md', 'Documentation'], ['resources/LICENSE.txt', 'License'], ['data/vocab.txt', 'Data'],
  ['src/model.rs', 'Source'], ['data/calibration.bin', 'Data'], ['models/head.pt', 'Model'], ['resources/labels.json', 'Metadata'],
];

export interface SyntheticPackage {
  name: string;
  versions: NewVersion[];
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function fakeSha(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/**
 * A registry shaped like a real one: model-family names typed as prefixes, scoped names,
 * descriptions that nearly all say "model", 1–4 tags, 1–4 versions (some prereleases, a few yanked),
 * manifests with 2–12 resources (so version rows are a few KiB, as real ones are).
 */
export function* syntheticPackages(count: number, seed = 42): Generator<SyntheticPackage & { yanked: string[] }> {
  const random = seededRandom(seed);
  const seen = new Set<string>();
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let index = 0; index < count; index += 1) {
    const family = pick(random, families);
    let name = `${family}-${pick(random, variants)}`;
    if (random() < 0.6) name += `-${pick(random, domains)}`;
    if (random() < 0.2) name = `${pick(random, scopes)}/${name}`;
    while (seen.has(name)) name += `-${Math.floor(random() * 36 ** 2).toString(36)}`;
    seen.add(name);
    const describes = random() < 0.97;
    const description = describes
      ? `${pick(random, adjectives)} ${pick(random, tasks)} model based on ${family}, trained on ${pick(random, domains)}. ${pick(random, extras)}`.trim()
      : `${pick(random, tasks)} checkpoint`;
    const tagCount = 1 + Math.floor(random() * 4);
    const packageTags = [...new Set(Array.from({ length: tagCount }, () => pick(random, tags)))];
    const author = pick(random, authors);
    const license = pick(random, licenses);
    const roll = random();
    const versionCount = roll < 0.6 ? 1 : roll < 0.85 ? 2 : roll < 0.95 ? 3 : 4;
    const versions: NewVersion[] = [];
    const yanked: string[] = [];
    for (let v = 0; v < versionCount; v += 1) {
      const version = v === versionCount - 1 && random() < 0.1 ? `1.${v}.0-rc.1` : `1.${v}.${Math.floor(random() * 3)}`;
      if (versions.some((existing) => existing.version === version)) continue;
      const resourceCount = 2 + Math.floor(random() * 11);
      const resources = resourceKinds.slice(0, resourceCount).map(([path, type], r) => {
        const size = Math.floor(random() * 400_000_000);
        const sha256 = fakeSha(`${name}@${version}/${r}`);
        return { path, name: path.slice(path.indexOf('/') + 1), type, size, compressed_size: size, compression: 'stored', sha256 };
      });
      const publishedAt = new Date(start + index * 300_000 + v * 86_400_000).toISOString();
      const manifest = {
        name,
        version,
        format_version: '1.0.0',
        created_at: publishedAt,
        author,
        description,
        license,
        modules: [{ name: family, class_name: `${family.replace(/-/g, '_')}_model`, version: '1.0.0', dependencies: [], has_source: false }],
        resources: resources.map((resource) => ({ name: resource.name, resource_type: resource.type, size: resource.size, sha256: resource.sha256, compression: null })),
        dependencies: random() < 0.3 ? { [`${pick(random, families)}-base`]: '^1.0.0' } : {},
        metadata: { tags: packageTags.join(',') },
        signature: null,
      };
      versions.push({
        name,
        version,
        digest: `sha256:${fakeSha(`${name}@${version}`)}`,
        size: resources.reduce((sum, resource) => sum + resource.size, 0),
        description,
        author,
        license,
        tags: packageTags,
        manifestJson: JSON.stringify(manifest),
        resources,
        dependencies: manifest.dependencies,
        publishedAt,
        publishedBy: 'key:bench',
      });
      if (random() < 0.03) yanked.push(version);
    }
    yield { name, versions, yanked };
  }
}

/** Publishes `count` synthetic packages through the repository (the code path the registry uses). */
export function populateRegistry(db: Database, repository: RegistryRepository, count: number, onProgress?: (done: number) => void): { packages: number; versions: number; names: string[] } {
  let versions = 0;
  const names: string[] = [];
  let batch: Array<SyntheticPackage & { yanked: string[] }> = [];
  const flush = db.transaction((items: typeof batch) => {
    for (const item of items) {
      for (const version of item.versions) repository.insertVersion(version);
      for (const version of item.yanked) repository.setYanked(item.name, version, true);
    }
  });
  for (const item of syntheticPackages(count)) {
    names.push(item.name);
    versions += item.versions.length;
    batch.push(item);
    if (batch.length === 2_000) {
      flush(batch);
      batch = [];
      onProgress?.(names.length);
    }
  }
  if (batch.length > 0) {
    flush(batch);
    onProgress?.(names.length);
  }
  return { packages: names.length, versions, names };
}
