/**
 * Generic object calls (apply, read, list) that send and return an object's JSON as
 * written. The library's KubernetesObjectApi maps bodies through its typed models,
 * which drops fields whose model name differs from the JSON name - a NetworkPolicy
 * rule's `from` (model `_from`) vanishes, widening the policy to every source
 * (kubernetes-client/javascript#2825, 1.2.0 to 1.4.0) - and it turns what it reads
 * into model shapes. Discovery, paths and authentication stay the library's.
 * Loaded only through client-node.ts.
 */
import * as k8s from '@kubernetes/client-node';
import { FIELD_MANAGER, type KubeObject, type ListOptions, type ObjectRef } from './types.js';

/** The response type that asks for the body as parsed JSON, untouched. */
const RAW = 'raw-json';

export class RawObjectApi extends k8s.KubernetesObjectApi {
  static create(kc: k8s.KubeConfig): RawObjectApi {
    const api = kc.makeApiClient(RawObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** Server-side apply, forced, by field manager ecom (or `fieldManager`), with the object's own JSON as the body. */
  async serverSideApply(object: KubeObject, fieldManager: string = FIELD_MANAGER): Promise<KubeObject> {
    // The library fills in a missing namespace on the object it is given: hand it a copy.
    const path = await this.specUriPath(structuredClone(object) as k8s.KubernetesObject, 'patch');
    const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.PATCH);
    request.setHeaderParam('Accept', 'application/json');
    request.setHeaderParam('Content-Type', k8s.PatchStrategy.ServerSideApply);
    request.setQueryParam('fieldManager', fieldManager);
    request.setQueryParam('force', 'true');
    request.setBody(JSON.stringify(object));
    return (await this.requestPromise(request, RAW)) as unknown as KubeObject;
  }

  async readRaw(ref: ObjectRef): Promise<KubeObject> {
    const path = await this.specUriPath({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }, 'read');
    const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.GET);
    request.setHeaderParam('Accept', 'application/json');
    return (await this.requestPromise(request, RAW)) as unknown as KubeObject;
  }

  /** The items, each given its kind and apiVersion (list items carry none of their own). */
  async listRaw(apiVersion: string, kind: string, options: ListOptions): Promise<KubeObject[]> {
    const path = await this.specUriPath({ apiVersion, kind, metadata: { namespace: options.namespace } }, 'list');
    const request = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.GET);
    request.setHeaderParam('Accept', 'application/json');
    if (options.labelSelector) request.setQueryParam('labelSelector', options.labelSelector);
    if (options.fieldSelector) request.setQueryParam('fieldSelector', options.fieldSelector);
    const list = (await this.requestPromise(request, RAW)) as unknown as { items?: KubeObject[] };
    return (list.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
  }

  protected override async processResponse<T extends k8s.KubernetesObject>(response: k8s.ResponseContext, type?: string): Promise<T> {
    if (type !== RAW) return super.processResponse<T>(response, type);
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return JSON.parse(await response.body.text()) as T;
    throw new k8s.ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', await response.getBodyAsAny(), Object.fromEntries(Object.entries(response.headers)));
  }
}
