/**
 * Prometheus, when it runs, must scrape every service and every target successfully.
 * "Every target up" alone would pass a Prometheus that scrapes the wrong thing (a
 * wrong port that happens to answer, a service left out), so each service must have
 * an up target carrying its name in the `service` label (or as its job), in every
 * runtime. A fresh server has not scraped yet (health "unknown"), so this waits up to
 * the deadline for a verdict.
 */
import { orOnTimeout, pollUntil } from '../core/poll.js';
import { SERVICE_NAMES } from '../core/system.js';
import { CheckFailed, describe, isRecord, request } from './http.js';
import type { CheckContext } from './types.js';

const POLL_INTERVAL_MS = 1_000;

interface Target {
  job: string;
  /** The service the target belongs to: its `service` label, else its job. */
  service: string;
  instance: string;
  health: string;
  lastError: string;
  /** Epoch ms of the last scrape, NaN when never scraped. */
  lastScrape: number;
}

export async function prometheusTargetsUp(ctx: CheckContext): Promise<string> {
  const url = `${ctx.endpoints.prometheus}/api/v1/targets?state=active`;
  const started = Date.now();
  let verdict = 'Prometheus did not answer';
  const allUp = async (): Promise<string | undefined> => {
    const res = await request('GET', url, { signal: ctx.signal });
    if (res.status !== 200) throw new CheckFailed(`expected HTTP 200 from the targets API, got ${describe(res)}`);
    const targets = parseTargets(res.json);
    if (!targets) throw new CheckFailed(`the targets API answered something else than a target list: ${describe(res)}`);
    const notUp = targets.filter((t) => t.health !== 'up');
    const summary = targets.map((t) => `${t.job} ${t.instance}: ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`).join('; ');
    ctx.saw(targets.length === 0 ? 'Prometheus has no active targets yet' : summary);
    // A target down before the check began may have been scraped while starting up; one
    // that fails a scrape made since is really down.
    const down = notUp.filter((t) => t.health === 'down' && t.lastScrape >= started);
    if (down.length > 0) throw new CheckFailed(`targets down: ${down.map((t) => `${t.job} ${t.instance} (${t.lastError || 'no error given'})`).join('; ')}`);
    const unscraped = SERVICE_NAMES.filter((name) => !targets.some((t) => t.service === name && t.health === 'up'));
    if (targets.length > 0 && notUp.length === 0 && unscraped.length === 0) return `${targets.length} targets up, every service scraped`;
    verdict =
      targets.length === 0
        ? 'Prometheus has no active targets'
        : notUp.length > 0
          ? `not every target was scraped yet: ${summary}`
          : `no target up for ${unscraped.join(', ')}: ${summary}`;
    return undefined;
  };
  // Gives up one interval before the check's deadline, so the failure names the targets.
  const timeoutMs = Math.max(0, ctx.remainingMs() - POLL_INTERVAL_MS);
  const note = await orOnTimeout(pollUntil(allUp, { what: 'every target up', timeoutMs, intervalMs: POLL_INTERVAL_MS, signal: ctx.signal }), undefined);
  if (note === undefined) throw new CheckFailed(verdict);
  return note;
}

function parseTargets(body: unknown): Target[] | undefined {
  if (!isRecord(body) || !isRecord(body.data) || !Array.isArray(body.data.activeTargets)) return undefined;
  return body.data.activeTargets.map((t) => {
    const labels = isRecord(t) && isRecord(t.labels) ? t.labels : {};
    const target = isRecord(t) ? t : {};
    return {
      job: String(labels.job ?? '?'),
      service: String(labels.service ?? labels.job ?? '?'),
      instance: String(labels.instance ?? target.scrapeUrl ?? '?'),
      health: String(target.health ?? 'unknown'),
      lastError: String(target.lastError ?? ''),
      lastScrape: Date.parse(String(target.lastScrape ?? '')),
    };
  });
}
