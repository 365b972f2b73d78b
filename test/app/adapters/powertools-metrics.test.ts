import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { powertoolsMetrics } from '../../../app/adapters/powertools-metrics.ts';

/**
 * The records CloudWatch reads: Powertools writes each as one JSON line in the embedded metric
 * format (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
function emfRecords(): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed._aws) records.push(parsed);
    }
    return true;
  });
  return records;
}

const dimensionsOf = (record: Record<string, unknown>) =>
  (record._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]?.Dimensions;

describe('powertoolsMetrics', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  /** The port on a Powertools instance that publishes (as on Lambda), its records captured. */
  const published = () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'false');
    const captured = emfRecords();
    const metrics = powertoolsMetrics(new PowertoolsMetrics({ namespace: 'Greenlight', serviceName: 'greenlight' }));
    return { captured, metrics };
  };

  it('publishes each count at once as its own record, with only its own dimensions', () => {
    // Prepare
    const { captured, metrics } = published();
    // Act
    metrics.count('ApprovalDecided', { outcome: 'approved' });
    metrics.count('ClaimGivenBack');
    metrics.count('ApprovalDecided', { outcome: 'rejected' });
    // Assess
    expect(captured).toHaveLength(3);
    expect(captured.map((record) => [record.ApprovalDecided ?? record.ClaimGivenBack, record.outcome])).toEqual([
      [1, 'approved'],
      [1, undefined],
      [1, 'rejected'],
    ]);
    expect(captured.map(dimensionsOf)).toEqual([[['service', 'outcome']], [['service']], [['service', 'outcome']]]);
    expect(captured[1]).not.toHaveProperty('ApprovalDecided');
  });

  it('leaves nothing behind for the next count when a count is refused part way', () => {
    // Prepare
    const { captured, metrics } = published();
    const tooMany = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`d${i}`, 'x']));
    // Act
    expect(() => metrics.count('ApprovalDecided', tooMany)).toThrow(RangeError);
    metrics.count('ClaimGivenBack');
    // Assess
    expect(captured).toHaveLength(1);
    expect(dimensionsOf(captured[0] ?? {})).toEqual([['service']]);
    expect(captured[0]).not.toHaveProperty('ApprovalDecided');
  });
});
