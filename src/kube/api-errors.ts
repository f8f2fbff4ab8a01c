/**
 * Turning what the Kubernetes client throws into ecom's errors: an API server that
 * does not answer is a missing prerequisite, a refusal names the Status message the
 * server sent, and nothing reaches the user as a stack trace.
 */
import { EcomError, ExitCode, PrerequisiteError } from '../core/errors.js';

/** The parts of a Kubernetes Status object ecom reads. */
interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

/** The HTTP status of a failed API call, when the server answered. */
export function apiStatusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

/** The Status message the API server sent with a failure, if any. */
export function apiStatusMessage(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const body = (err as { body?: unknown }).body;
  const parsed = typeof body === 'string' ? parseJson(body) : body;
  if (typeof parsed === 'object' && parsed !== null) return (parsed as StatusBody).message;
  return undefined;
}

/** A network-level failure (no HTTP answer): refused, unknown host, reset. */
function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface ApiCallContext {
  /** What was attempted: "apply Deployment ecom/catalog". */
  action: string;
  server: string;
  contextName: string;
}

/** The EcomError for a failed call; errors that already are EcomErrors pass unchanged. */
export function toKubeError(err: unknown, call: ApiCallContext): EcomError {
  if (err instanceof EcomError) return err;
  const network = networkErrorCode(err);
  if (network) {
    return new PrerequisiteError(
      `cannot reach the Kubernetes API at ${call.server} (context ${call.contextName}): ${network}`,
      `is the cluster running? check with \`kubectl cluster-info --context ${call.contextName}\``,
    );
  }
  const status = apiStatusCode(err);
  const message = apiStatusMessage(err) ?? plainMessage(err);
  if (status === 401 || status === 403) {
    return new EcomError(
      `the Kubernetes API refused to ${call.action} (${status}): ${message}`,
      `check that context ${call.contextName} may do this (kubectl auth can-i --context ${call.contextName})`,
      ExitCode.failed,
    );
  }
  return new EcomError(
    `cannot ${call.action}${status ? ` (${status})` : ''}: ${message}`,
    'rerun with --verbose for the details, or check the cluster with kubectl',
    ExitCode.failed,
    err instanceof Error ? err.stack : undefined,
  );
}

/** The generated API's errors read "HTTP-Code: 401\nMessage: Unauthorized\n...": keep the message. */
function plainMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return /^Message: (.*)$/m.exec(text)?.[1] ?? text.split('\n')[0] ?? text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
