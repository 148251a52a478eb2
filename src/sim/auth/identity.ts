// Who a request comes from, as the API server's authenticators tell it: a user name and groups. A ServiceAccount is
// the user `system:serviceaccount:<namespace>:<name>` in the groups `system:serviceaccounts` and
// `system:serviceaccounts:<namespace>`. Every authenticated user is also in `system:authenticated`.

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';

/** The all-powerful user behind each cluster's own token: system:masters bypasses authorization, as it does in Kubernetes. */
export const ADMIN_USER: UserInfo = { username: 'kube-sim-admin', groups: [MASTERS, AUTHENTICATED] };

export function serviceAccountUser(namespace: string, name: string, uid?: string): UserInfo {
  return { username: `system:serviceaccount:${namespace}:${name}`, uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED] };
}
