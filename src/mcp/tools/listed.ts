/** How a schema is shown in tools/list where that differs from what zod derives from it (see arguments.ts). */
import { z } from 'zod';

export const listedAs = z.registry<Record<string, unknown>>();
