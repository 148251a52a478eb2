import { AsyncLocalStorage } from 'node:async_hooks';

/*
 * Whether the Kubernetes calls made in the current async context are urgent: they carry out a person's command and go
 * ahead of background polling in each cluster's rate limit. Carried implicitly so that the traffic provider's interface
 * stays the same whoever calls it.
 */
const urgency = new AsyncLocalStorage<boolean>();

export function runUrgently<T>(fn: () => Promise<T>): Promise<T> {
  return urgency.run(true, fn);
}

export function isUrgent(): boolean {
  return urgency.getStore() === true;
}
