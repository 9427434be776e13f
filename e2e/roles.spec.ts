import { expect, test, type Page } from "@playwright/test";
import { BEN, expectAccessible, SCREENSHOT_DIR, signedInPage } from "./fixtures";

// The roles page: the Super Admin makes Ben an Admin, and Ben, already signed in,
// gets the admin pages on his next page load (permissions are read per request,
// the cookie carries only who he is), without signing in again.

test.describe.configure({ timeout: 90_000 });

const SUPER_ADMIN = { email: "admin@example.com", name: "Ada Admin" };

/** Puts a user's roles back through the same HTTP API the page uses. */
async function setRolesByName(page: Page, email: string, roleNames: string[]): Promise<void> {
  const status = await page.evaluate(
    async ({ email, roleNames }) => {
      const get = async (path: string, input: unknown) => {
        const response = await fetch(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
        return ((await response.json()) as { result: { data: { json: unknown } } }).result.data.json;
      };
      const { roles } = (await get("roles.list", undefined)) as { roles: { id: string; name: string }[] };
      const { items } = (await get("roles.users", { query: email })) as { items: { id: string; email: string }[] };
      const user = items.find((item) => item.email === email);
      if (!user) return 404;
      const response = await fetch("/api/trpc/roles.setUserRoles", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { userId: user.id, roleIds: roles.filter((role) => roleNames.includes(role.name)).map((role) => role.id) } }),
      });
      return response.status;
    },
    { email, roleNames },
  );
  expect(status).toBe(200);
}

/** Puts a role's permissions back through the same HTTP API the page uses. */
async function setRolePermissions(page: Page, roleName: string, permissionKeys: string[]): Promise<void> {
  const status = await page.evaluate(
    async ({ roleName, permissionKeys }) => {
      const response = await fetch(`/api/trpc/roles.list?input=${encodeURIComponent(JSON.stringify({ json: undefined }))}`);
      const { roles } = ((await response.json()) as { result: { data: { json: { roles: { id: string; name: string }[] } } } }).result.data.json;
      const role = roles.find((item) => item.name === roleName);
      if (!role) return 404;
      const saved = await fetch("/api/trpc/roles.setPermissions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { roleId: role.id, permissionKeys } }),
      });
      return saved.status;
    },
    { roleName, permissionKeys },
  );
  expect(status).toBe(200);
}

test("the Super Admin makes Ben an Admin, and Ben gets the admin pages on his next page load", async ({ browser }) => {
  const superAdmin = await signedInPage(browser, SUPER_ADMIN);
  const ben = await signedInPage(browser, BEN);

  // Before: Ben's account menu offers no admin page.
  await ben.getByRole("button", { name: /Account menu for/ }).click();
  await expect(ben.getByRole("menuitem", { name: "Sign out" })).toBeVisible();
  await expect(ben.getByRole("menuitem", { name: "Messaging settings" })).toHaveCount(0);
  await ben.keyboard.press("Escape");

  await superAdmin.getByRole("button", { name: /Account menu for/ }).click();
  await superAdmin.getByRole("menuitem", { name: "Roles" }).click();
  await expect(superAdmin).toHaveURL("/dashboard/roles");
  await expect(superAdmin.getByRole("heading", { level: 1, name: "Roles and permissions" })).toBeVisible();
  await expect(superAdmin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Roles" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  // The matrix: Super Admin's roles:manage cannot be unchecked.
  const matrix = superAdmin.getByRole("table", { name: "Permissions of each role" });
  await expect(matrix.getByRole("checkbox", { name: "Super Admin: roles:manage", exact: true })).toBeDisabled();
  await expect(matrix.getByRole("checkbox", { name: "Admin: messaging:admin", exact: true })).toBeChecked();
  await expect(matrix.getByRole("checkbox", { name: "User: messaging:admin", exact: true })).not.toBeChecked();

  try {
    // A role's column is saved on its own.
    const userSettingsRead = matrix.getByRole("checkbox", { name: "User: messaging:settings:read", exact: true });
    await userSettingsRead.check();
    await matrix.getByRole("button", { name: "Save User" }).click();
    await expect(superAdmin.getByText("Permissions of User saved")).toBeVisible();
    await expect(matrix.getByRole("button", { name: "Save User" })).toBeDisabled();
    await userSettingsRead.uncheck();
    await matrix.getByRole("button", { name: "Save User" }).click();
    await expect(matrix.getByRole("button", { name: "Save User" })).toBeDisabled();
    await expect(userSettingsRead).not.toBeChecked();

    await superAdmin.getByLabel("Search users").fill("ben@example.com");
    await superAdmin.getByRole("button", { name: "Search", exact: true }).click();
    const users = superAdmin.getByRole("table", { name: "Users and their roles" });
    await expect(users.getByRole("row")).toHaveCount(2);
    await expect(users.getByRole("row").nth(1)).toContainText(BEN.name);
    await expectAccessible(superAdmin, "the roles page");

    await users.getByRole("button", { name: `Edit roles of ${BEN.name}` }).click();
    const dialog = superAdmin.getByRole("dialog", { name: `Roles of ${BEN.name}` });
    await expect(dialog.getByRole("checkbox", { name: /^User/ })).toBeChecked();
    await dialog.getByRole("checkbox", { name: /^Admin/ }).check();
    await expectAccessible(superAdmin, "the role editor");
    await dialog.getByRole("button", { name: "Save roles" }).click();
    await expect(superAdmin.getByText(`Roles of ${BEN.name} saved`)).toBeVisible();
    await expect(dialog).toHaveCount(0);
    await expect(users.getByRole("row").nth(1)).toContainText("Admin");
    await superAdmin.screenshot({ path: `${SCREENSHOT_DIR}/admin-roles.png`, fullPage: true });

    // Ben, still signed in, reloads: the admin pages are his.
    await ben.reload();
    await ben.getByRole("button", { name: /Account menu for/ }).click();
    await ben.getByRole("menuitem", { name: "Messaging settings" }).click();
    await expect(ben).toHaveURL("/dashboard/settings/messaging");
    await expect(ben.getByRole("heading", { level: 1, name: "Messaging settings" })).toBeVisible();
    // Admin, not Super Admin: no roles page.
    await expect(ben.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Roles" })).toHaveCount(0);
    await ben.goto("/dashboard/roles");
    await expect(ben.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  } finally {
    // Other specs share this server: Ben is a plain User again.
    await setRolesByName(superAdmin, BEN.email, ["User"]);
    await setRolePermissions(superAdmin, "User", ["messaging:access"]);
  }
  await ben.goto("/dashboard/settings/messaging");
  await expect(ben.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
});
