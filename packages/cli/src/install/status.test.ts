import { describe, expect, it } from 'vitest';
import type { KubeObject } from './objects.js';
import { describePods, formatDuration, parseDuration, rolloutStatus, validatorEnforcing } from './status.js';

const deployment = (generation: number, spec: object, status: object): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'skeind', generation },
  spec,
  status,
});

describe('rolloutStatus (kubectl rollout status rules)', () => {
  it('waits for the new spec to be observed, updated, old replicas gone and the new ones available', () => {
    expect(rolloutStatus(deployment(2, { replicas: 1 }, { observedGeneration: 1 })).message).toBe(
      'waiting for the new spec to be observed',
    );
    expect(
      rolloutStatus(
        deployment(2, { replicas: 1 }, { observedGeneration: 2, replicas: 1, updatedReplicas: 0 }),
      ).message,
    ).toBe('0 of 1 replicas updated');
    expect(
      rolloutStatus(
        deployment(
          2,
          { replicas: 1 },
          { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 },
        ),
      ).message,
    ).toBe('1 old replicas pending termination');
    expect(
      rolloutStatus(
        deployment(
          2,
          { replicas: 1 },
          { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
        ),
      ),
    ).toMatchObject({ done: false, message: '0 of 1 updated replicas available' });
    expect(
      rolloutStatus(
        deployment(
          2,
          { replicas: 1 },
          { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        ),
      ),
    ).toMatchObject({ done: true, failed: false });
  });

  it('fails when the Deployment exceeded its progress deadline', () => {
    const r = rolloutStatus(
      deployment(
        1,
        {},
        {
          observedGeneration: 1,
          conditions: [
            { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
          ],
        },
      ),
    );
    expect(r).toMatchObject({ done: false, failed: true, message: 'rollout stalled: too slow' });
  });
});

describe('describePods', () => {
  it('says why a pod is not running: unscheduled, image pull, crash loop; and lists warning events', () => {
    const pod = (name: string, status: object): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      status,
    });
    const lines = describePods(
      [
        pod('a', {
          phase: 'Pending',
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' },
          ],
        }),
        pod('b', {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'True' }],
          containerStatuses: [
            { name: 'skeind', state: { waiting: { reason: 'ErrImageNeverPull', message: 'not present' } } },
          ],
        }),
        pod('c', {
          phase: 'Running',
          conditions: [{ type: 'PodScheduled', status: 'True' }],
          containerStatuses: [
            {
              name: 'skeind',
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error' } },
            },
          ],
        }),
      ],
      [
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'e1' },
          type: 'Warning',
          reason: 'Failed',
          message: 'boom',
          involvedObject: { name: 'b' },
        },
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'e2' },
          type: 'Normal',
          reason: 'Pulled',
          message: 'ok',
          involvedObject: { name: 'b' },
        },
      ],
    );
    expect(lines).toEqual([
      'pod a: Pending; not scheduled (Unschedulable): 0/1 nodes',
      'pod b: Pending; container skeind waiting: ErrImageNeverPull — not present',
      'pod c: Running; container skeind waiting: CrashLoopBackOff; container skeind restarted 3 times, last exit 1 (Error)',
      'event b: Failed: boom',
    ]);
  });
});

describe('validatorEnforcing', () => {
  it('is true only when every webhook fails closed', () => {
    const v = (...p: string[]): KubeObject => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'v' },
      webhooks: p.map((failurePolicy, i) => ({ name: `w${i}`, failurePolicy })),
    });
    expect(validatorEnforcing(v('Fail'))).toBe(true);
    expect(validatorEnforcing(v('Fail', 'Ignore'))).toBe(false);
    expect(validatorEnforcing(v())).toBe(false);
  });
});

describe('durations', () => {
  it('parses Go-style durations and refuses anything else', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h')).toBe(3_600_000);
    for (const bad of ['', '5', 'm', '5 m', '-1s', '0s', '5mm'])
      expect(() => parseDuration(bad), bad).toThrow('not a duration');
  });

  it('prints them as Kubernetes tools do', () => {
    expect(formatDuration(6_000)).toBe('6s');
    expect(formatDuration(1_234)).toBe('1.2s');
    expect(formatDuration(300_000)).toBe('5m0s');
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});
