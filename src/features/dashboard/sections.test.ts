import { describe, expect, it } from "vitest";
import { DEFAULT_ROLE_PERMISSIONS } from "~/features/permissions/catalog";
import { dashboardSectionsFor } from "./sections";

describe("the admin sections offered", () => {
  const keys = (permissions: readonly string[]) => dashboardSectionsFor(permissions).map((section) => section.key);

  it("follow the permissions each page needs", () => {
    expect(keys(DEFAULT_ROLE_PERMISSIONS.User.permissions)).toEqual([]);
    expect(keys(DEFAULT_ROLE_PERMISSIONS.Admin.permissions)).toEqual(["settings", "audit", "operations", "announcements"]);
    expect(keys(DEFAULT_ROLE_PERMISSIONS["Super Admin"].permissions)).toEqual(["settings", "audit", "operations", "announcements", "roles"]);
    expect(keys(["messaging:settings:read"])).toEqual(["settings"]);
  });
});
