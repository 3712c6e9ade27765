/* The field app's service worker (scope /field/): the app shell from the cache when the
   network fails; its assets cache-first. Records and the day's list live in IndexedDB, per
   user, kept by the page: nothing personal is cached here but the shell's user name. */
'use strict';

const SHELL_CACHE = 'wangge-field-shell-v2';
const SHELL = '/field/';
const ASSETS = [
  '/static/field/words.js',
  '/static/field/store.js',
  '/static/field/app.js',
  '/static/field/field.css',
  '/static/field/icon.svg',
  '/static/field/icon-192.png',
  '/static/field/icon-512.png',
  '/field/manifest.webmanifest',
];

async function cacheShell(cache) {
  try {
    const response = await fetch(SHELL, { credentials: 'same-origin', cache: 'no-store' });
    if (response.ok && !response.redirected) await cache.put(SHELL, response);
  } catch (error) {
    /* offline at install: the next visit online caches it */
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(ASSETS);
    await cacheShell(cache);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('wangge-field-') && n !== SHELL_CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === SHELL) {
    event.respondWith((async () => {
      try {
        const response = await fetch(request);
        if (response.ok && !response.redirected) {
          const cache = await caches.open(SHELL_CACHE);
          await cache.put(SHELL, response.clone());
        }
        return response;
      } catch (error) {
        const cached = await caches.match(SHELL, { ignoreSearch: true });
        if (cached) return cached;
        throw error;
      }
    })());
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith((async () => {
      const cache = await caches.open(SHELL_CACHE);
      const cached = await cache.match(url.pathname);
      const fresh = fetch(request).then((response) => {
        if (response.ok) cache.put(url.pathname, response.clone());
        return response;
      });
      if (cached) {
        fresh.catch(() => undefined);
        return cached;
      }
      return fresh;
    })());
  }
});
