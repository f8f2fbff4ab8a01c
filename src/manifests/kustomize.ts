/**
 * The part of kustomize that manifests/ uses, in TypeScript, so `ecom render` works
 * without kubectl (docs/architecture.md, "Manifests"): resources (files and
 * directories), configMapGenerator without name hashes, JSON 6902 patches with a target,
 * images, and labels on metadata only. A field outside that part is an error rather than silently ignored; a test
 * checks the result against `kubectl kustomize`.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { applyJsonPatch, type JsonPatchOperation } from './json-patch.js';
import { objectId, type KubeObject } from './objects.js';

export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

interface PatchTarget {
  kind?: string;
  name?: string;
  namespace?: string;
}

/** kustomize's `labels` entry; selectors and pod templates are left alone, as its defaults do. */
interface LabelsEntry {
  pairs: Record<string, string>;
  includeSelectors?: boolean;
  includeTemplates?: boolean;
}

interface Kustomization {
  resources?: string[];
  labels?: LabelsEntry[];
  images?: ImageOverride[];
  patches?: { target: PatchTarget; patch: string }[];
  configMapGenerator?: ConfigMapGenerator[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

interface ConfigMapGenerator {
  name: string;
  namespace?: string;
  files?: string[];
  literals?: string[];
  options?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'labels', 'images', 'patches', 'configMapGenerator', 'generatorOptions']);
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface BuildOptions {
  /** Merged into the top kustomization's `images` by name (its fields win): how render sets tags and registries. */
  imageOverrides?: ImageOverride[];
}

/** The objects `kubectl kustomize dir` gives, for the fields manifests/ uses. */
export async function buildKustomization(dir: string, options: BuildOptions = {}): Promise<KubeObject[]> {
  const { parse, parseAllDocuments } = await import('yaml');
  const yaml = { parse, parseAllDocuments };
  return build(resolve(dir), options.imageOverrides ?? [], yaml);
}

type Yaml = Pick<typeof import('yaml'), 'parse' | 'parseAllDocuments'>;

async function build(dir: string, imageOverrides: ImageOverride[], yaml: Yaml): Promise<KubeObject[]> {
  const { file, kustomization } = await loadKustomization(dir, yaml);
  const objects: KubeObject[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = join(dir, entry);
    const isDir = (await stat(path).catch(() => undefined))?.isDirectory();
    objects.push(...(isDir ? await build(path, [], yaml) : await readObjects(path, yaml)));
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    if (!kustomization.generatorOptions?.disableNameSuffixHash) {
      throw new Error(`${file}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true (ecom's kustomize subset does not add name hashes)`);
    }
    objects.push(await generateConfigMap(dir, generator));
  }
  rejectDuplicates(objects, file);
  for (const { target, patch } of kustomization.patches ?? []) applyPatch(objects, target, patch, file, yaml);
  for (const entry of kustomization.labels ?? []) addLabels(objects, entry, file);
  const images = mergeImages(kustomization.images ?? [], imageOverrides);
  for (const object of objects) setImages(object, images);
  return objects;
}

async function loadKustomization(dir: string, yaml: Yaml): Promise<{ file: string; kustomization: Kustomization }> {
  for (const name of KUSTOMIZATION_FILES) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const kustomization = (yaml.parse(text) ?? {}) as Kustomization & Record<string, unknown>;
    const unsupported = Object.keys(kustomization).filter((field) => !SUPPORTED_FIELDS.has(field));
    if (unsupported.length > 0) throw new Error(`${file}: unsupported kustomize field(s) ${unsupported.join(', ')}`);
    return { file, kustomization };
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

async function readObjects(file: string, yaml: Yaml): Promise<KubeObject[]> {
  const documents = yaml.parseAllDocuments(await readFile(file, 'utf8'));
  if (!Array.isArray(documents)) throw new Error(`${file}: not a YAML stream`);
  const objects: KubeObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const value = document.toJS() as KubeObject | null;
    if (value === null) continue;
    if (!value.apiVersion || !value.kind || !value.metadata?.name) {
      throw new Error(`${file}: every document needs apiVersion, kind and metadata.name`);
    }
    objects.push(value);
  }
  return objects;
}

async function generateConfigMap(dir: string, generator: ConfigMapGenerator): Promise<KubeObject> {
  const data: Record<string, string> = {};
  for (const literal of generator.literals ?? []) {
    const at = literal.indexOf('=');
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  for (const entry of generator.files ?? []) {
    const at = entry.indexOf('=');
    const [key, path] = at === -1 ? [basename(entry), entry] : [entry.slice(0, at), entry.slice(at + 1)];
    data[key] = await readFile(join(dir, path), 'utf8');
  }
  const metadata: KubeObject['metadata'] = { name: generator.name };
  if (generator.namespace) metadata.namespace = generator.namespace;
  if (generator.options?.labels) metadata.labels = { ...generator.options.labels };
  if (generator.options?.annotations) metadata.annotations = { ...generator.options.annotations };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}

function rejectDuplicates(objects: KubeObject[], file: string): void {
  const seen = new Set<string>();
  for (const object of objects) {
    const id = objectId(object);
    if (seen.has(id)) throw new Error(`${file}: ${id} is defined twice`);
    seen.add(id);
  }
}

function applyPatch(objects: KubeObject[], target: PatchTarget, patch: string, file: string, yaml: Yaml): void {
  const operations = yaml.parse(patch) as JsonPatchOperation[];
  if (!Array.isArray(operations)) throw new Error(`${file}: only JSON 6902 patches (a list of operations) are supported`);
  const matches = objects.filter(
    (o) =>
      (target.kind === undefined || o.kind === target.kind) &&
      (target.name === undefined || o.metadata.name === target.name) &&
      (target.namespace === undefined || o.metadata.namespace === target.namespace),
  );
  if (matches.length === 0) throw new Error(`${file}: patch target ${JSON.stringify(target)} matches no object`);
  for (const object of matches) {
    const patched = applyJsonPatch(object, operations) as KubeObject;
    objects[objects.indexOf(object)] = patched;
  }
}

function addLabels(objects: KubeObject[], entry: LabelsEntry, file: string): void {
  if (entry.includeSelectors || entry.includeTemplates) throw new Error(`${file}: labels on selectors or templates are outside ecom's kustomize subset`);
  for (const object of objects) object.metadata.labels = { ...object.metadata.labels, ...entry.pairs };
}

function mergeImages(images: ImageOverride[], overrides: ImageOverride[]): ImageOverride[] {
  const merged = images.map((image) => ({ ...image, ...overrides.find((o) => o.name === image.name) }));
  const extra = overrides.filter((o) => !images.some((image) => image.name === o.name));
  return [...merged, ...extra];
}

/** Splits `host:5050/ecom/catalog:tag@sha256:…` into its name, tag and digest. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const rest = at === -1 ? image : image.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > rest.lastIndexOf('/');
  return { name: hasTag ? rest.slice(0, colon) : rest, tag: hasTag ? rest.slice(colon + 1) : undefined, digest };
}

function setImages(object: KubeObject, images: ImageOverride[]): void {
  if (images.length === 0) return;
  for (const container of podContainers(object)) {
    if (typeof container.image !== 'string') continue;
    const current = parseImage(container.image);
    const override = images.find((image) => image.name === current.name);
    if (!override) continue;
    const name = override.newName ?? current.name;
    const digest = override.digest ?? (override.newTag ? undefined : current.digest);
    const tag = override.newTag ?? current.tag;
    container.image = digest ? `${name}@${digest}` : tag ? `${name}:${tag}` : name;
  }
}

type Container = { name?: string; image?: unknown; [field: string]: unknown };
export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  [field: string]: unknown;
}

/** The pod spec of a workload's template (or of a Pod); undefined for other kinds. */
export function podSpec(object: KubeObject): PodSpec | undefined {
  const spec = object.spec as
    | ({ template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } & PodSpec)
    | undefined;
  return object.kind === 'Pod' ? spec : (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec);
}

/** The init containers and containers of a workload's pod template (or of a Pod). */
export function podContainers(object: KubeObject): Container[] {
  const spec = podSpec(object);
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}
