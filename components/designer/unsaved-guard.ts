'use client';

import { useEffect } from 'react';

export const LEAVE_QUESTION = 'This flow has unsaved changes. Leave without saving them?';

/** The same-origin page a click on a link would open, or undefined when it stays here or opens elsewhere. */
function leavingTo(event: MouseEvent): URL | undefined {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return undefined;
  const anchor = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!(anchor instanceof HTMLAnchorElement) || (anchor.target && anchor.target !== '_self') || anchor.hasAttribute('download')) return undefined;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin) return undefined;
  return url.pathname === window.location.pathname && url.search === window.location.search ? undefined : url;
}

/**
 * Asks before unsaved work is left behind: the browser's own prompt when the tab is closed or
 * reloaded, and a confirmation when a link in the studio would open another page. Listening
 * on the document in the capture phase runs before Next.js's link handler, so a "stay" stops it.
 */
export function useUnsavedChangesGuard(dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      event.returnValue = '';
    };
    const onClick = (event: MouseEvent) => {
      if (!leavingTo(event)) return;
      if (window.confirm(LEAVE_QUESTION)) return;
      event.preventDefault();
      event.stopPropagation();
    };
    window.addEventListener('beforeunload', beforeUnload);
    document.addEventListener('click', onClick, true);
    return () => {
      window.removeEventListener('beforeunload', beforeUnload);
      document.removeEventListener('click', onClick, true);
    };
  }, [dirty]);
}
