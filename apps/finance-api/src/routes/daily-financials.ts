import { Router } from 'express';
import { dailyFinancialsInput, dateRange, isoDate, listDailyFinancials, upsertDailyFinancials, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

const idParam = z.object({ id: uuid });
const dayParam = z.object({ id: uuid, date: isoDate });

/** A store's daily figures: everyone reads them, members and admins record them. */
export function dailyFinancialsRoutes(db: Database, guard: Guards): Router {
  const router = Router();

  router.get('/v1/stores/:id/daily-financials', guard.read, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.json(await listDailyFinancials(db, id, parseInput(dateRange, req.query)));
  });
  router.put('/v1/stores/:id/daily-financials/:date', guard.write, async (req, res) => {
    const { id, date } = parseInput(dayParam, req.params);
    const { created, day } = await upsertDailyFinancials(db, id, date, parseInput(dailyFinancialsInput, req.body));
    res.status(created ? 201 : 200).json(day);
  });

  return router;
}
