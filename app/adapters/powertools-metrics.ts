import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '../core/ports.ts';

/**
 * The core's Metrics port on Powertools (CloudWatch embedded metric format). Each count is
 * published at once as its own record with its own dimensions, so no handler has to remember to
 * publish. One Powertools instance serves every count: a count adds, publishes and clears in one
 * synchronous step, so counts never mix, and a click pays for no new instance (`singleMetric()`
 * builds one, with its own console, per call). `POWERTOOLS_METRICS_DISABLED=true` silences it (the
 * sandbox and tests do).
 */
export function powertoolsMetrics(
  metrics = new PowertoolsMetrics({ namespace: 'Greenlight', serviceName: 'greenlight' }),
): Metrics {
  return {
    count(name, dimensions = {}) {
      try {
        for (const [key, value] of Object.entries(dimensions)) metrics.addDimension(key, value);
        metrics.addMetric(name, MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      } finally {
        // Published, or refused part way (too many dimensions): nothing stays for the next count.
        metrics.clearDimensions();
        metrics.clearMetrics();
      }
    },
  };
}
