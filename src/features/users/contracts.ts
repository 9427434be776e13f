import { z } from "zod";

export const searchUsersInput = z.object({ query: z.string().trim().min(1).max(100) });

export const userSummarySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  image: z.string().nullable(),
});

export const searchUsersOutput = z.array(userSummarySchema);
