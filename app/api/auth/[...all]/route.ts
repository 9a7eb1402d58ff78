import { toNextJsHandler } from 'better-auth/next-js';
import { auth } from '@/server/auth';

export const dynamic = 'force-dynamic';

/** Public sign-up is closed: the owner set-up and admins create accounts (server/services/accounts). */
function closedSignUp(req: Request): Response | null {
  if (new URL(req.url).pathname.includes('/sign-up')) {
    return Response.json(
      { message: 'sign-up is closed; ask an admin of this studio for an account' },
      { status: 403 },
    );
  }
  return null;
}

export async function GET(req: Request) {
  return closedSignUp(req) ?? toNextJsHandler(auth()).GET(req);
}

export async function POST(req: Request) {
  return closedSignUp(req) ?? toNextJsHandler(auth()).POST(req);
}
