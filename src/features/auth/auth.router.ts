import { authedProcedure, publicProcedure, router } from "~/server/trpc/trpc";
import { signUp } from "./auth.service";
import { sessionUserSchema, signUpInput, signUpOutput } from "./contracts";

// Sign-in and sign-out go through next-auth's own endpoints (/api/auth/*); sign-up
// is a procedure so outside clients can use it too.
export const authRouter = router({
  signUp: publicProcedure
    .input(signUpInput)
    .output(signUpOutput)
    .mutation(({ ctx, input }) => signUp(ctx.prisma, input, { ip: ctx.ip, userAgent: ctx.userAgent })),

  me: authedProcedure.output(sessionUserSchema).query(({ ctx }) => ctx.user),
});
