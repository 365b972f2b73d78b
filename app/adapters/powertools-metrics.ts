import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '../core/ports.ts';

/**
 * The core's Metrics port on Powertools (CloudWatch embedded metric format). Each count is
 * flushed at once as its own record, so no handler has to remember to publish.
 * `POWERTOOLS_METRICS_DISABLED=true` silences it (the sandbox and tests do).
 */
export function powertoolsMetrics(
  metrics = new PowertoolsMetrics({ namespace: 'Greenlight', serviceName: 'greenlight' }),
): Metrics {
  return {
    count(name, dimensions = {}) {
      const single = metrics.singleMetric();
      for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
      single.addMetric(name, MetricUnit.Count, 1);
    },
  };
}
