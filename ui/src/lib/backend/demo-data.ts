/**
 * Made-up but realistic event payloads for the fake backend: the same small CI/ops world as the
 * core's demo feed (`src/demo.rs`): builds started, passed or failed, deploys, monitoring alerts.
 * Deterministic for a given seed, so tests and screenshots are repeatable.
 */
import type { Urgency } from '$lib/bindings';

export interface Payload {
  type: string;
  /** The raw `data:` of the event (JSON for these). */
  data: string;
  title: string;
  body: string;
  link: string | null;
  /** From the payload's `severity`: `critical` alerts are critical, the rest normal. */
  urgency: Urgency;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same events. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxExclusive: number): number {
    return min + Math.floor(this.next() * (maxExclusive - min));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)] as T;
  }
}

const REPOS = ['api', 'web', 'billing'] as const;
const BRANCHES = ['main', 'release/2.4', 'fix/retry-budget', 'feat/search'] as const;
const PEOPLE = ['ana', 'bo', 'chidi', 'dara', 'emil'] as const;
const HOSTS = ['db-1', 'web-2', 'web-3', 'queue-1'] as const;
const SUITES = ['unit', 'integration', 'end-to-end'] as const;

function payload(type: string, fields: Record<string, unknown>): Payload {
  const data = JSON.stringify(fields);
  return {
    type,
    data,
    title: String(fields.title),
    body: String(fields.message),
    link: typeof fields.link === 'string' ? fields.link : null,
    urgency: fields.severity === 'critical' ? 'critical' : 'normal',
  };
}

/** One demo event; `n` numbers builds and versions so a series reads plausibly. */
export function demoPayload(random: Random, n: number, at: number): Payload {
  const repo = random.pick(REPOS);
  const build = 1000 + n;
  const version = `2.${Math.floor(n / 20) % 40}.${n % 20}`;
  const when = new Date(at).toISOString();
  const roll = random.next();
  if (roll < 0.25) {
    const branch = random.pick(BRANCHES);
    const commit = Math.floor(random.next() * 0xfffffff)
      .toString(16)
      .padStart(7, '0');
    return payload('build', {
      title: `build #${build} of ${repo} started`,
      message: `Build #${build} of ${repo} started on ${branch} for commit ${commit} by ${random.pick(PEOPLE)}.`,
      link: `https://example.com/ci/${repo}/builds/${build}`,
      severity: 'info',
      at: when,
      repo,
      build,
      status: 'started',
      branch,
      commit,
    });
  }
  if (roll < 0.5) {
    const minutes = random.int(1, 12);
    const seconds = random.int(0, 60);
    return payload('build', {
      title: `build #${build} of ${repo} passed`,
      message: `Build #${build} of ${repo} passed in ${minutes}m ${seconds}s and produced ${repo} v${version}.`,
      link: `https://example.com/ci/${repo}/builds/${build}`,
      severity: 'info',
      at: when,
      repo,
      build,
      status: 'passed',
    });
  }
  if (roll < 0.62) {
    const failures = random.int(1, 6);
    const suite = random.pick(SUITES);
    return payload('build', {
      title: `build #${build} of ${repo} failed`,
      message: `Build #${build} of ${repo} failed: ${failures} ${suite} ${failures === 1 ? 'test' : 'tests'} did not pass.`,
      link: `https://example.com/ci/${repo}/builds/${build}`,
      severity: 'warning',
      at: when,
      repo,
      build,
      status: 'failed',
    });
  }
  if (roll < 0.82) {
    const production = random.next() < 0.5;
    const env = production ? 'production' : 'staging';
    return payload('deploy', {
      title: `${repo} v${version} deployed to ${env}`,
      message: production
        ? `${repo} v${version} is live on production across ${random.int(3, 12)} instances.`
        : `${repo} v${version} is live on staging and its smoke tests passed.`,
      link: `https://example.com/deploys/${repo}/${version}`,
      severity: 'info',
      at: when,
      repo,
      version,
      environment: env,
    });
  }
  const host = random.pick(HOSTS);
  const percent = random.int(85, 100);
  const critical = percent >= 95;
  if (roll < 0.92) {
    return payload('alert', {
      title: `CPU at ${percent}% on ${host}`,
      message: `CPU usage on ${host} has been above 85% for 5 minutes (now ${percent}%).`,
      link: `https://example.com/monitoring/alerts/cpu/${host}`,
      severity: critical ? 'critical' : 'warning',
      at: when,
      alert: 'cpu',
      host,
      status: 'firing',
      value: `${percent}%`,
    });
  }
  return payload('alert', {
    title: `disk alert on ${host} resolved`,
    message: `The data volume on ${host} is back under 80% full.`,
    link: `https://example.com/monitoring/alerts/disk/${host}`,
    severity: 'info',
    at: when,
    alert: 'disk',
    host,
    status: 'resolved',
  });
}

/** Generic events for feeds the user adds by hand in the fake. */
export function genericPayload(random: Random, feed: string, n: number): Payload {
  const kinds = ['message', 'update', 'ping'] as const;
  const type = random.pick(kinds);
  const fields = {
    title: `${type} ${n} from ${feed}`,
    message: `Simulated ${type} number ${n}; the in-browser fake backend made it up.`,
    n,
  };
  return payload(type, fields);
}
