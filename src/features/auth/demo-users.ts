import type { RoleName } from "~/features/permissions/catalog";

// Demo accounts for the embedded database and `npm run db:seed`; never created on
// a production database. Listed in the README.

export const DEMO_PASSWORD = "chatline-demo";

export const DEMO_USERS: { email: string; name: string; roles: RoleName[] }[] = [
  { email: "admin@example.com", name: "Ada Admin", roles: ["User", "Super Admin"] },
  { email: "ana@example.com", name: "Ana Lima", roles: ["User"] },
  { email: "ben@example.com", name: "Ben Okafor", roles: ["User"] },
  { email: "cleo@example.com", name: "Cleo Park", roles: ["User"] },
  { email: "dev@example.com", name: "Dev Patel", roles: ["User"] },
];
