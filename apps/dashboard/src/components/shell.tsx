'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect } from 'react';
import type { ReactNode } from 'react';
import { FiltersProvider } from '../lib/filters';
import { useSession } from '../lib/session';
import { Loading } from './ui';

const pages = [
  { href: '/', label: 'Overview' },
  { href: '/products', label: 'Products' },
  { href: '/ad-spend', label: 'Ad spend' },
  { href: '/fixed-costs', label: 'Fixed costs' },
  { href: '/stores', label: 'Stores & FX', admin: true },
  { href: '/tokens', label: 'API tokens', admin: true },
];

/** Every signed-in page: navigation, who is signed in, and the way out. */
export function Shell({ children }: { children: ReactNode }) {
  const { status, user, isAdmin, logout } = useSession();
  const router = useRouter();
  const pathname = usePathname();

  useEffect(() => {
    if (status === 'signed-out') router.replace('/login');
  }, [status, router]);

  if (status !== 'signed-in' || !user) return <main className="content"><Loading what="your session" /></main>;
  return (
    <FiltersProvider>
      <nav className="topbar">
        <span className="brand">DealDome</span>
        <ul>
          {pages
            .filter((p) => !p.admin || isAdmin)
            .map((p) => (
              <li key={p.href}>
                <Link href={p.href} aria-current={pathname === p.href ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
        </ul>
        <span className="who">
          {user.displayName} <span className="badge" data-testid="role">{user.role}</span>
          <button type="button" className="secondary" onClick={() => void logout()}>
            Sign out
          </button>
        </span>
      </nav>
      <main className="content">{children}</main>
    </FiltersProvider>
  );
}
