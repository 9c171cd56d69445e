import { Router } from 'express';
import { pnlQuery, profitAndLoss } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

export function reportRoutes(db: Database, guard: Guards): Router {
  const router = Router();
  router.get('/v1/reports/pnl', guard.read, async (req, res) => {
    res.json(await profitAndLoss(db, parseInput(pnlQuery, req.query)));
  });
  return router;
}
