import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError, createClient, type Tokens } from '../api/client';
import type { Community, Person } from '../api/types';

const KEY = 'csb-console-session';

/** The signed-in staff member, their tokens (kept per browser tab) and what they may see. */
export const useSession = defineStore('session', () => {
  const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as { tokens: Tokens; person: Person } | null;
  const tokens = ref<Tokens | null>(saved?.tokens ?? null);
  const person = ref<Person | null>(saved?.person ?? null);
  const communities = ref<Community[]>([]);
  const signedOutReason = ref('');

  function persist() {
    if (tokens.value && person.value) sessionStorage.setItem(KEY, JSON.stringify({ tokens: tokens.value, person: person.value }));
    else sessionStorage.removeItem(KEY);
  }

  const api = createClient({
    tokens: {
      get: () => tokens.value,
      set: (t) => {
        tokens.value = t;
        if (!t) person.value = null;
        persist();
      },
    },
    onSignedOut: (reason) => {
      signedOutReason.value = reason;
      location.hash = '';
      window.dispatchEvent(new Event('csb-signed-out'));
    },
  });

  const signedIn = computed(() => !!tokens.value && !!person.value);
  const isAdmin = computed(() => person.value?.roles.includes('admin') ?? false);

  async function signIn(username: string, password: string) {
    const body = await api.request<{ accessToken: string; refreshToken: string; expiresIn: number; person: Person }>('POST', '/auth/staff/login', {
      body: { username, password },
      anonymous: true,
    }).catch((e: unknown) => {
      throw e;
    });
    if (!body.person.roles.some((r) => r === 'staff' || r === 'admin')) {
      throw new ApiError('refused', 403, 'forbidden', '这个账号不是工作人员账号，不能登录后台');
    }
    tokens.value = { accessToken: body.accessToken, refreshToken: body.refreshToken, expiresAt: Date.now() + body.expiresIn * 1000 };
    person.value = body.person;
    signedOutReason.value = '';
    persist();
  }

  async function signOut() {
    try {
      if (tokens.value) await api.request('POST', '/auth/logout');
    } catch {
      // Signed out here either way; the session ends on the server when its tokens expire.
    }
    tokens.value = null;
    person.value = null;
    communities.value = [];
    persist();
  }

  async function loadCommunities() {
    if (communities.value.length) return communities.value;
    const { items } = await api.get<{ items: Community[] }>('/communities', { scope: 'staff' });
    communities.value = items;
    return items;
  }

  const facilities = computed(() => communities.value.flatMap((c) => c.facilities.filter((f) => f.manage).map((f) => ({ ...f, communityName: c.name }))));

  return { tokens, person, communities, facilities, signedIn, isAdmin, signedOutReason, api, signIn, signOut, loadCommunities };
});
