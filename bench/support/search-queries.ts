import { seededRandom } from './synthetic-registry';

export interface BenchQuery {
  kind: 'typed prefix' | 'name' | 'tag' | 'two words' | 'near-everything' | 'description word' | 'no match' | 'empty (browse)' | 'later page';
  q: string;
  page: number;
}

/**
 * What people type into a registry's search box: a name being typed letter by letter, whole
 * names copied from somewhere, tags, two-word queries, a word nearly every package has ("model"),
 * browsing with no query, and later pages.
 */
export function searchQueryMix(names: readonly string[], seed = 7): BenchQuery[] {
  const random = seededRandom(seed);
  const queries: BenchQuery[] = [];
  const typed = ['resnet', 'bert', 'yolo', 'whisper', 'efficientnet', 'stable', 'llama', 'convnext', 'mask', 'wav2vec2'];
  for (const word of typed) {
    for (let length = 1; length <= word.length; length += 1) queries.push({ kind: 'typed prefix', q: word.slice(0, length), page: 1 });
  }
  for (let index = 0; index < 40; index += 1) {
    const name = names[Math.floor(random() * names.length)] ?? 'resnet-50';
    queries.push({ kind: 'name', q: name, page: 1 });
  }
  for (const tag of ['vision', 'nlp', 'audio', 'quantized', 'onnx', 'diffusion', 'llm', 'medical', 'edge', 'int8']) queries.push({ kind: 'tag', q: tag, page: 1 });
  for (const q of ['resnet imagenet', 'bert squad', 'image classification', 'yolo coco', 'speech recognition', 'vision transformer', 'whisper multilingual', 'object detection', 'stable diffusion', 'text classification', 'resnet 50', 'llama chat']) {
    queries.push({ kind: 'two words', q, page: 1 });
  }
  for (const q of ['model', 'models', 'trained', 'model trained']) queries.push({ kind: 'near-everything', q, page: 1 });
  for (const q of ['segmentation', 'summarization', 'tokenizer', 'safetensors', 'edge devices', 'calibrated']) queries.push({ kind: 'description word', q, page: 1 });
  for (const q of ['zzzz', 'quokka', 'resnet zzz']) queries.push({ kind: 'no match', q, page: 1 });
  queries.push({ kind: 'empty (browse)', q: '', page: 1 }, { kind: 'empty (browse)', q: '', page: 250 });
  for (const [q, page] of [['model', 2], ['model', 50], ['vision', 3], ['resnet', 4], ['bert', 10], ['', 2000]] as const) queries.push({ kind: 'later page', q, page });
  return queries;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}
