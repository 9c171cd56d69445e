import { Router } from 'express';
import type { Response } from 'express';
import {
  addProductCost,
  costInput,
  createProduct,
  dateRange,
  deleteProduct,
  getProduct,
  isoDate,
  listProductCosts,
  listProductPerformance,
  listProducts,
  pageQuery,
  performanceFilters,
  performanceInput,
  productFilters,
  productInput,
  productPatch,
  updateProduct,
  upsertProductPerformance,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { parseInput } from '../http/problem';
import { principalOf } from '../http/auth';
import type { Guards } from '../http/auth';

const idParam = z.object({ id: uuid });
const dayParam = z.object({ id: uuid, date: isoDate });

const actor = (res: Response) => {
  const principal = principalOf(res);
  return principal.kind === 'user' ? principal.user.id : null;
};

export function productRoutes(db: Database, guard: Guards): Router {
  const router = Router();

  router.get('/v1/products', guard.read, async (req, res) => {
    res.json(await listProducts(db, parseInput(productFilters, req.query), parseInput(pageQuery, req.query)));
  });
  router.post('/v1/products', guard.write, async (req, res) => {
    res.status(201).json(await createProduct(db, parseInput(productInput, req.body), actor(res)));
  });
  router.get('/v1/products/:id', guard.read, async (req, res) => {
    res.json(await getProduct(db, parseInput(idParam, req.params).id));
  });
  router.patch('/v1/products/:id', guard.write, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.json(await updateProduct(db, id, parseInput(productPatch, req.body)));
  });
  router.delete('/v1/products/:id', guard.write, async (req, res) => {
    await deleteProduct(db, parseInput(idParam, req.params).id);
    res.status(204).end();
  });

  router.get('/v1/products/:id/costs', guard.read, async (req, res) => {
    res.json({ data: await listProductCosts(db, parseInput(idParam, req.params).id) });
  });
  router.post('/v1/products/:id/costs', guard.write, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.status(201).json({ data: await addProductCost(db, id, parseInput(costInput, req.body), actor(res)) });
  });

  router.put('/v1/products/:id/performance/:date', guard.write, async (req, res) => {
    const { id, date } = parseInput(dayParam, req.params);
    await upsertProductPerformance(db, id, date, parseInput(performanceInput, req.body));
    res.status(204).end();
  });
  router.get('/v1/product-performance', guard.read, async (req, res) => {
    res.json(
      await listProductPerformance(
        db,
        parseInput(dateRange, req.query),
        parseInput(performanceFilters, req.query),
        parseInput(pageQuery, req.query),
      ),
    );
  });

  return router;
}
